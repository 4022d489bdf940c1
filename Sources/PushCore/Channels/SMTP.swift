import Foundation
import SMTPClient

/// E-mail through the user's own mail provider, with the SMTP client of this package.
public struct SMTP: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "smtp",
        displayName: "E-mail (SMTP)",
        defaultBaseURL: nil,
        variables: [
            .required("SMTP_SERVER", "host:port of the provider's SMTP server, e.g. smtp.qq.com:465 (port default: 465 with SMTP_SSL=true, else 587)"),
            .required("SMTP_EMAIL", "your address: the login and the sender"),
            .required("SMTP_PASSWORD", secret: true, "the password, usually an app password / authorization code (授权码)"),
            .optional("SMTP_SSL", "true for implicit TLS (port 465); otherwise STARTTLS is used before logging in"),
            .optional("SMTP_NAME", "the sender's display name"),
            .optional("SMTP_TO", "recipients separated by , or ; (default: SMTP_EMAIL itself)"),
            .optional("SMTP_EMAIL_TO", "the same as SMTP_TO (newer QingLong name); SMTP_TO wins"),
            .optional("SMTP_CA_FILE", "a PEM file of CA certificates to trust instead of the system's"),
            .optional("SMTP_TLS_INSECURE", "true skips certificate verification (self-signed test servers only)"),
            .optional("SMTP_ALLOW_PLAINTEXT", "true allows logging in without TLS when the server offers none (trusted local servers only)"),
        ],
        rendersMarkdown: true)

    let server: SMTPServer
    let sender: String
    let senderName: String?
    let recipients: [String]

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let values = try configuration.group("SMTP_SERVER", "SMTP_EMAIL", "SMTP_PASSWORD") else { return nil }
        let implicitTLS = try configuration.bool("SMTP_SSL") ?? false
        let (host, port) = try Self.hostAndPort(values[0], implicitTLS: implicitTLS)
        let sender = values[1]
        guard Self.isAddress(sender) else { throw .invalid("SMTP_EMAIL", "expected an e-mail address, got \"\(sender)\"") }
        let separators: [Character] = [",", ";", "；", "，"]
        let recipients = configuration.list("SMTP_TO", separators: separators) ?? configuration.list("SMTP_EMAIL_TO", separators: separators) ?? [sender]
        for recipient in recipients where !Self.isAddress(recipient) {
            throw .invalid(configuration.contains("SMTP_TO") ? "SMTP_TO" : "SMTP_EMAIL_TO", "\"\(recipient)\" is not an e-mail address")
        }
        let trust: SMTPTrust
        if try configuration.bool("SMTP_TLS_INSECURE") == true {
            trust = .insecure
        } else if let file = configuration["SMTP_CA_FILE"] {
            guard FileManager.default.isReadableFile(atPath: file) else { throw .invalid("SMTP_CA_FILE", "cannot read \(file)") }
            trust = .certificateFile(file)
        } else {
            trust = .systemRoots
        }
        let allowPlaintext = try configuration.bool("SMTP_ALLOW_PLAINTEXT") ?? false
        server = SMTPServer(
            host: host, port: port, security: implicitTLS ? .implicitTLS : .startTLS(allowPlaintext: allowPlaintext),
            trust: trust, username: sender, password: values[2])
        self.sender = sender
        self.senderName = configuration["SMTP_NAME"]
        self.recipients = recipients
    }

    static func hostAndPort(_ value: String, implicitTLS: Bool) throws(ConfigurationError) -> (String, Int) {
        let defaultPort = implicitTLS ? 465 : 587
        var host = value.trimmingWhitespace()
        var port = defaultPort
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            // [IPv6]:port
            let rest = host[host.index(after: close)...]
            let address = String(host[host.index(after: host.startIndex)..<close])
            if rest.hasPrefix(":") {
                guard let number = Int(rest.dropFirst()), (1...65535).contains(number) else {
                    throw .invalid("SMTP_SERVER", "expected host:port, e.g. smtp.qq.com:465, got \"\(value)\"")
                }
                port = number
            }
            host = address
        } else if let colon = host.lastIndex(of: ":") {
            guard let number = Int(host[host.index(after: colon)...]), (1...65535).contains(number) else {
                throw .invalid("SMTP_SERVER", "expected host:port, e.g. smtp.qq.com:465, got \"\(value)\"")
            }
            port = number
            host = String(host[..<colon])
        }
        guard !host.isEmpty, !host.contains("/"), !host.contains(" ") else {
            throw .invalid("SMTP_SERVER", "expected host:port, e.g. smtp.qq.com:465, got \"\(value)\"")
        }
        return (host, port)
    }

    static func isAddress(_ value: String) -> Bool {
        guard !value.contains(where: { $0 == "<" || $0 == ">" || $0.isWhitespace }) else { return false }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
    }

    public var secrets: [String] {
        let password = server.password
        // The AUTH commands carry it base64-encoded.
        return [password, Data(password.utf8).base64EncodedString(), Data("\0\(sender)\0\(password)".utf8).base64EncodedString()]
    }

    public var summary: String {
        let security: String
        switch server.security {
        case .implicitTLS: security = "TLS"
        case .startTLS(let plain): security = plain ? "STARTTLS, plaintext allowed" : "STARTTLS"
        }
        return "\(server.host):\(server.port) (\(security)) as \(sender) to \(recipients.joined(separator: ", "))"
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        // A Markdown body goes as plain text with an HTML alternative.
        let mail = MailMessage(
            from: sender, fromName: senderName, to: recipients, subject: message.title, body: message.plainBody,
            html: message.format == .markdown ? Markdown.emailHTML(message.body) : nil)
        do {
            let reply = try await SMTPClient.send(mail, via: server, deadline: .now + context.timeout)
            return .delivered(status: reply.code)
        } catch {
            var reason = error.description
            if let code = error.code, code == 535 || code == 534 || code == 530 {
                reason += " (check SMTP_PASSWORD: most providers want an app password or authorization code, not the login password)"
            }
            switch error {
            case .tlsFailed: reason += " (check SMTP_SERVER and SMTP_SSL; for a private CA use SMTP_CA_FILE)"
            case .noEncryptionOffered:
                reason += ": use its TLS port (SMTP_SSL=true, usually 465), or set SMTP_ALLOW_PLAINTEXT=true for a trusted local server"
            case .noUsableAuthentication: reason += "; check SMTP_SERVER and its port"
            default: break
            }
            return .rejected(status: error.code, reason, transient: error.isTransient)
        }
    }
}
