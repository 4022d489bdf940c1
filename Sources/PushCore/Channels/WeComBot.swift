import Foundation

/// WeCom (企业微信) group robot, addressed by its webhook key.
public struct WeComBot: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "wecom_bot",
        displayName: "WeCom group robot",
        defaultBaseURL: "https://qyapi.weixin.qq.com",
        variables: [
            .required("QYWX_KEY", secret: true, "the key=... value of the robot's webhook URL (the whole URL is accepted too)"),
            .optional("QYWX_ORIGIN", "replaces https://qyapi.weixin.qq.com, e.g. a reverse proxy (shared with wecom_app)"),
        ],
        rateLimits: [RateLimit(20, per: .seconds(60))],
        maximumLength: .bytes(2048), rendersMarkdown: true)

    let origin: String
    let key: String

    public init?(configuration: Configuration) throws(ConfigurationError) {
        // QYWX_ORIGIN alone does not count: the WeCom app channel shares it.
        guard let value = configuration["QYWX_KEY"] else { return nil }
        key = try Self.webhookKey(value)
        origin = try Self.origin(configuration, descriptor: Self.descriptor)
    }

    /// The key itself, or the key taken from a pasted webhook URL (`...?key=KEY`), which the
    /// original sent as-is and WeCom answered with 93000.
    static func webhookKey(_ value: String) throws(ConfigurationError) -> String {
        guard value.lowercased().hasPrefix("http://") || value.lowercased().hasPrefix("https://") || value.contains("key=") else {
            return value
        }
        let query = value.split(separator: "?", maxSplits: 1).dropFirst().first ?? Substring(value)
        let fields = query.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
        guard let key = fields.first(where: { $0.count == 2 && $0[0] == "key" })?[1].removingPercentEncoding, !key.isEmpty else {
            throw .invalid("QYWX_KEY", "expected the robot's key, or its webhook URL ending in ?key=...")
        }
        return key
    }

    /// QYWX_ORIGIN (the original's override) wins over MCP_PUSH_<ID>_BASE_URL.
    static func origin(_ configuration: Configuration, descriptor: ChannelDescriptor) throws(ConfigurationError) -> String {
        if let origin = configuration["QYWX_ORIGIN"] {
            return try Configuration.validatedURL(origin, variable: "QYWX_ORIGIN").trimmingSuffix("/")
        }
        return try configuration.baseURL(for: descriptor)
    }

    public var secrets: [String] { [key] }

    public var summary: String {
        "robot \(Redactor.maskValue(key))" + (origin == Self.descriptor.defaultBaseURL ? "" : " via \(origin)")
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let url = "\(origin)/cgi-bin/webhook/send?\(PercentEncoding.form([("key", key)]))"
        let body: JSONValue =
            message.format == .markdown
            ? ["msgtype": "markdown", "markdown": ["content": .string(message.markdownText)]]
            : ["msgtype": "text", "text": ["content": .string(message.text)]]
        let answer = try await context.perform(.json(url, body))
        return answer.judge { json in
            guard let code = json["errcode"]?.int else { return .unexpected(answer) }
            let reason = json.reason(code: "errcode", message: "errmsg")
            switch code {
            case 0: return .accepted
            case -1: return .rejected(reason + " (WeCom is busy)", transient: true)
            case 45009: return .rejected(reason + " (over 20 messages a minute)", transient: true)
            case 93000: return .rejected(reason + " (check QYWX_KEY: the key=... value of the robot's webhook URL)")
            default: return .rejected(reason)
            }
        }
    }
}
