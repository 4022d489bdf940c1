import Foundation

/// ServerChan (Server酱): Turbo keys (SCT...) go to sctapi.ftqq.com, ServerChan³ keys
/// (sctp{uid}t...) to the account's own {uid}.push.ft07.com.
public struct ServerChan: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "serverchan",
        displayName: "ServerChan (Server酱)",
        defaultBaseURL: "https://sctapi.ftqq.com",
        variables: [
            .required("PUSH_KEY", secret: true, "SendKey: SCT... for Turbo (sct.ftqq.com), sctp{uid}t... for ServerChan³"),
        ],
        maximumLength: .bytes(32000), rendersMarkdown: true)

    /// A ServerChan³ key, `sctp{uid}t...`: the uid names the user's host.
    static func serverChan3User(_ key: String) -> Substring? {
        guard key.hasPrefix("sctp") else { return nil }
        let uid = key.dropFirst(4).prefix { $0.isASCII && $0.isNumber }
        return !uid.isEmpty && key.dropFirst(4 + uid.count).hasPrefix("t") ? uid : nil
    }
    /// Turbo cuts longer titles; ServerChan³ documents no limit.
    static let turboTitleLimit = 32

    let endpoint: String
    let key: String
    let isTurbo: Bool

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let key = configuration["PUSH_KEY"] else { return nil }
        self.key = key
        let encodedKey = PercentEncoding.encode(key)
        if let uid = Self.serverChan3User(key) {
            isTurbo = false
            endpoint = try configuration.baseURL(for: Self.descriptor, default: "https://\(uid).push.ft07.com") + "/send/\(encodedKey).send"
        } else {
            isTurbo = true
            endpoint = try configuration.baseURL(for: Self.descriptor) + "/\(encodedKey).send"
        }
    }

    public var secrets: [String] { [key] }
    public var summary: String { "\(isTurbo ? "Turbo" : "ServerChan³") key \(Redactor.maskValue(key))" }

    /// Title and `desp`, which ServerChan always reads as Markdown: a Markdown body goes as written;
    /// a text body is escaped and its single newlines doubled (Markdown joins them). An over-long Turbo
    /// title is cut with "…" and given whole as the first line of `desp`.
    func fields(_ message: Message) -> [(String, String)] {
        var desp = message.body
        if message.format == .text {
            desp = Markdown.escaped(desp).replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
                .replacingOccurrences(of: "\n", with: "\n\n")
        }
        guard isTurbo, message.title.count > Self.turboTitleLimit else { return [("title", message.title), ("desp", desp)] }
        let title = String(message.title.prefix(Self.turboTitleLimit - 1)) + "…"
        return [("title", title), ("desp", desp.isEmpty ? Markdown.escaped(message.title) : Markdown.escaped(message.title) + "\n\n" + desp)]
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let answer = try await context.perform(.form(endpoint, fields(message)))
        return answer.judge { json in
            // Current answers use `code`; the old API answered `errno` with `errmsg`.
            if let code = json["code"]?.int {
                return code == 0 ? .accepted : .rejected(json.reason(code: "code", message: "message", "info") + Self.hint(code))
            }
            if let errno = json["errno"]?.int {
                return errno == 0 ? .accepted : .rejected(json.reason(code: "errno", message: "errmsg"))
            }
            return .unexpected(answer)
        }
    }

    static func hint(_ code: Int) -> String {
        code == 40001 ? " (check PUSH_KEY; the free Turbo plan also allows only 5 messages a day)" : ""
    }
}
