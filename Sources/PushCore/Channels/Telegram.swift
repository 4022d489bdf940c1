import Foundation

/// Telegram bot: `sendMessage` to one chat, as plain text, optionally through an HTTP proxy.
public struct Telegram: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "telegram",
        displayName: "Telegram bot",
        defaultBaseURL: "https://api.telegram.org",
        variables: [
            .required("TG_BOT_TOKEN", secret: true, "bot token from @BotFather, e.g. 123456789:AAE..."),
            .required("TG_USER_ID", "chat id to send to: your numeric user id, a negative group id, or @channelname"),
            .optional("TG_API_HOST", "replaces https://api.telegram.org, e.g. a reverse proxy (https:// is assumed when no scheme is given)"),
            .optional("TG_PROXY_HOST", "HTTP proxy host name or IP"),
            .optional("TG_PROXY_PORT", "HTTP proxy port"),
            .optional("TG_PROXY_AUTH", secret: true, "proxy credentials as user:password"),
        ],
        rateLimits: [RateLimit(20, per: .seconds(60))],
        // Longer texts go as up to four messages, split on line breaks, rather than cut.
        maximumLength: .utf16(4096), maximumParts: 4)

    /// What BotFather hands out: the bot's numeric id, a colon, then the secret part.
    static var tokenPattern: Regex<Substring> { /^[0-9]+:[A-Za-z0-9_-]+$/ }

    package let apiBase: String
    package let token: String
    package let chatID: String
    package let proxy: HTTPProxy?

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard Self.descriptor.variables.contains(where: { configuration.contains($0.name) }) else { return nil }
        let token = configuration["TG_BOT_TOKEN"]
        let chatID = configuration["TG_USER_ID"]
        let missing = [("TG_BOT_TOKEN", token), ("TG_USER_ID", chatID)].filter { $0.1 == nil }.map(\.0)
        guard let token, let chatID else { throw .missing(missing) }
        guard token.wholeMatch(of: Self.tokenPattern) != nil else {
            throw .invalid("TG_BOT_TOKEN", "expected the token @BotFather gave, like 123456789:AAE... (without a bot prefix or URL)")
        }
        self.token = token
        self.chatID = chatID
        if let host = configuration["TG_API_HOST"] {
            // The original's example gave the host without a scheme; both forms are accepted.
            let url = host.contains("://") ? host : "https://" + host
            apiBase = try Configuration.validatedURL(url, variable: "TG_API_HOST").trimmingSuffix("/")
        } else {
            apiBase = try configuration.baseURL(for: Self.descriptor)
        }
        proxy = try Self.proxy(configuration)
    }

    /// TG_PROXY_HOST and TG_PROXY_PORT together name an HTTP proxy; TG_PROXY_AUTH (or
    /// `user:password@` in front of the host, as the original allowed) adds Basic credentials.
    static func proxy(_ configuration: Configuration) throws(ConfigurationError) -> HTTPProxy? {
        let hostValue = configuration["TG_PROXY_HOST"]
        let portValue = configuration["TG_PROXY_PORT"]
        var credentials = configuration["TG_PROXY_AUTH"]
        guard hostValue != nil || portValue != nil || credentials != nil else { return nil }
        guard var host = hostValue, portValue != nil else {
            throw .missing([("TG_PROXY_HOST", hostValue), ("TG_PROXY_PORT", portValue)].filter { $0.1 == nil }.map(\.0))
        }
        if host.lowercased().hasPrefix("http://") { host.removeFirst("http://".count) }
        guard !host.contains("://") else {
            throw .invalid("TG_PROXY_HOST", "only HTTP proxies are supported: give the proxy's host name or IP, e.g. 127.0.0.1")
        }
        if let at = host.lastIndex(of: "@") {
            if credentials == nil { credentials = String(host[..<at]) }
            host = String(host[host.index(after: at)...])
        }
        host = host.trimmingSuffix("/")
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains("/"), host.count(where: { $0 == ":" }) != 1 else {
            throw .invalid("TG_PROXY_HOST", "give the proxy's host name or IP only; its port goes in TG_PROXY_PORT")
        }
        guard let port = try configuration.int("TG_PROXY_PORT", in: 1...65535) else { throw .missing(["TG_PROXY_PORT"]) }
        if let credentials, !credentials.contains(":") {
            throw .invalid("TG_PROXY_AUTH", "expected user:password")
        }
        return HTTPProxy(host: host, port: port, credentials: credentials)
    }

    public var secrets: [String] {
        var values = [token]
        if let credentials = proxy?.credentials {
            values.append(credentials)
            if let password = credentials.split(separator: ":", maxSplits: 1).last { values.append(String(password)) }
        }
        return values
    }

    public var summary: String {
        var text = "chat \(chatID) via bot \(Redactor.maskValue(token))"
        if apiBase != Self.descriptor.defaultBaseURL { text += " at \(apiBase)" }
        if let proxy { text += ", proxy \(proxy.host):\(proxy.port)\(proxy.credentials == nil ? "" : " with credentials")" }
        return text
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let parts = Self.descriptor.maximumLength!.split(message.text)
        var delivery = Delivery.delivered(status: nil)
        for (index, part) in parts.enumerated() {
            delivery = try await send(part, silent: message.silent, context: context)
            guard delivery.ok else {
                if parts.count > 1, let error = delivery.error { delivery.error = "part \(index + 1) of \(parts.count): \(error)" }
                return delivery
            }
        }
        return delivery
    }

    private func send(_ text: String, silent: Bool, context: DeliveryContext) async throws -> Delivery {
        var body: [String: JSONValue] = ["chat_id": .string(chatID), "text": .string(text), "disable_web_page_preview": true]
        if silent { body["disable_notification"] = true }
        let answer = try await context.perform(.json("\(apiBase)/bot\(token)/sendMessage", .object(body)), proxy: proxy)
        return answer.judge { json in
            if json["ok"]?.bool == true { return .accepted }
            guard let code = json["error_code"]?.int else { return .unexpected(answer) }
            let reason = json.reason(code: "error_code", message: "description")
            let description = json["description"]?.string?.lowercased() ?? ""
            switch code {
            case 429:
                let wait = json["parameters"]?["retry_after"]?.int.map { Duration.seconds($0) }
                return .rejected(reason, transient: true, retryAfter: wait)
            case 401, 404:
                return .rejected(reason + " (check TG_BOT_TOKEN)")
            case 400 where description.contains("chat not found"):
                return .rejected(reason + " (check TG_USER_ID, and that the user has sent /start to the bot)")
            case 403:
                return .rejected(reason + " (the user must send /start to the bot first and must not block it)")
            default:
                return .rejected(reason)
            }
        }
    }
}
