import Crypto
import Foundation

/// Feishu (飞书) / Lark custom group bot. Signed when FSSECRET is set; bots secured by
/// keyword or IP allow-list have no secret and are sent to unsigned.
public struct Feishu: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "feishu",
        displayName: "Feishu / Lark bot",
        defaultBaseURL: "https://open.feishu.cn",
        variables: [
            .required("FSKEY", secret: true, "hook id from the bot's webhook URL (.../open-apis/bot/v2/hook/ID), or that whole URL"),
            .optional("FSSECRET", secret: true, "signing secret when the bot has signature verification (签名校验) on"),
        ],
        rateLimits: [RateLimit(100, per: .seconds(60)), RateLimit(5, per: .seconds(1))],
        // The request body may hold 20 KB.
        maximumLength: .bytes(18000), carriesLinks: true, rendersMarkdown: true)

    static let hookPath = "/open-apis/bot/v2/hook/"

    let endpoint: String
    let hookID: String
    let secret: String?

    public init?(configuration: Configuration) throws(ConfigurationError) {
        let key = configuration["FSKEY"]
        let secret = configuration["FSSECRET"]
        guard key != nil || secret != nil else { return nil }
        guard let key else { throw .missing(["FSKEY"]) }
        let origin: String
        if key.lowercased().hasPrefix("http://") || key.lowercased().hasPrefix("https://") {
            // A pasted webhook URL names the server too (open.feishu.cn or open.larksuite.com).
            _ = try Configuration.validatedURL(key, variable: "FSKEY")
            let withoutQuery = key.split(separator: "?", maxSplits: 1).first.map(String.init) ?? key
            guard let range = withoutQuery.range(of: Self.hookPath) else {
                throw .invalid("FSKEY", "a webhook URL must look like https://open.feishu.cn/open-apis/bot/v2/hook/<id>")
            }
            let id = String(withoutQuery[range.upperBound...]).trimmingSuffix("/")
            guard !id.isEmpty, !id.contains("/") else {
                throw .invalid("FSKEY", "the webhook URL must end with the hook id after /open-apis/bot/v2/hook/")
            }
            hookID = id
            origin = String(withoutQuery[..<range.lowerBound])
        } else {
            hookID = key
            origin = try configuration.baseURL(for: Self.descriptor)
        }
        self.secret = secret
        endpoint = origin + Self.hookPath + PercentEncoding.encode(hookID)
    }

    public var secrets: [String] { [hookID] + (secret.map { [$0] } ?? []) }

    public var summary: String {
        let host = URL(string: endpoint)?.host ?? "open.feishu.cn"
        return "\(host) hook \(Redactor.maskValue(hookID)), \(secret == nil ? "unsigned" : "signed")"
    }

    /// Feishu's `sign`: base64(HMAC-SHA256(key: "timestamp\nsecret", message: empty)), the
    /// reverse of DingTalk's roles; the timestamp is in seconds.
    static func signature(secret: String, timestampSeconds: Int64) -> String {
        let key = SymmetricKey(data: Data("\(timestampSeconds)\n\(secret)".utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(), using: key)
        return Data(mac).base64EncodedString()
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        var body: [String: JSONValue] = ["msg_type": "text", "content": ["text": .string(message.text)]]
        if message.url != nil || message.format == .markdown {
            // A card: the title as its header, the text as plain text (a Markdown body as a markdown
            // element), and a button to the link.
            var elements: [JSONValue] = [
                message.format == .markdown && !message.body.isEmpty
                    ? ["tag": "markdown", "content": .string(message.body)]
                    : ["tag": "div", "text": ["tag": "plain_text", "content": .string(message.bodyOrTitle)]]
            ]
            if let link = message.url {
                elements.append(["tag": "action", "actions": [["tag": "button", "text": ["tag": "plain_text", "content": "Open"], "type": "primary", "url": .string(link)]]])
            }
            body = [
                "msg_type": "interactive",
                "card": ["header": ["title": ["tag": "plain_text", "content": .string(message.title)]], "elements": .array(elements)],
            ]
        }
        if let secret {
            let timestamp = Int64(Date().timeIntervalSince1970)
            body["timestamp"] = .string(String(timestamp))
            body["sign"] = .string(Self.signature(secret: secret, timestampSeconds: timestamp))
        }
        let answer = try await context.perform(.json(endpoint, .object(body)))
        return answer.judge { json in
            // Current answers carry `code`/`msg`; older ones only `StatusCode`/`StatusMessage`.
            let (codeKey, messageKey) = json["code"] != nil ? ("code", "msg") : ("StatusCode", "StatusMessage")
            guard let code = json[codeKey]?.int else { return .unexpected(answer) }
            let reason = json.reason(code: codeKey, message: messageKey)
            switch code {
            case 0: return .accepted
            case 11232: return .rejected(reason + " (over 100 messages a minute or 5 a second)", transient: true)
            case 19001: return .rejected(reason + " (check FSKEY)")
            case 19021: return .rejected(reason + " (check FSSECRET, and that this machine's clock is right)")
            case 19022: return .rejected(reason + " (this machine's IP is not in the bot's IP allow-list)")
            case 19024: return .rejected(reason + " (the message lacks the bot's custom keyword)")
            default: return .rejected(reason)
            }
        }
    }
}
