import Crypto
import Foundation

/// DingTalk group robot. Signed when DD_BOT_SECRET is set; robots secured by keyword
/// or IP allow-list have no secret and are sent to unsigned.
public struct DingTalk: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "dingtalk",
        displayName: "DingTalk robot",
        defaultBaseURL: "https://oapi.dingtalk.com",
        variables: [
            .required("DD_BOT_TOKEN", secret: true, "access_token from the robot's webhook URL"),
            .optional("DD_BOT_SECRET", secret: true, "signing secret (SEC...) when the robot uses 加签; leave unset for keyword or IP allow-list robots"),
        ],
        rateLimits: [RateLimit(20, per: .seconds(60))],
        maximumLength: .bytes(20000), carriesLinks: true, rendersMarkdown: true)

    let endpoint: String
    let token: String
    let secret: String?

    public init?(configuration: Configuration) throws(ConfigurationError) {
        let token = configuration["DD_BOT_TOKEN"]
        let secret = configuration["DD_BOT_SECRET"]
        guard token != nil || secret != nil else { return nil }
        guard let token else { throw .missing(["DD_BOT_TOKEN"]) }
        if let secret, !secret.hasPrefix("SEC") {
            throw .invalid("DD_BOT_SECRET", "a DingTalk signing secret starts with SEC (copy it from the robot's security settings)")
        }
        self.token = token
        self.secret = secret
        endpoint = try configuration.baseURL(for: Self.descriptor) + "/robot/send"
    }

    public var secrets: [String] { [token] + (secret.map { [$0] } ?? []) }
    public var summary: String { "robot \(Redactor.maskValue(token)), \(secret == nil ? "unsigned (keyword or IP allow-list robot)" : "signed")" }

    /// `timestamp` and `sign` query values: base64(HMAC-SHA256(key: secret, "timestamp\nsecret")).
    static func signature(secret: String, timestampMilliseconds: Int64) -> String {
        let key = SymmetricKey(data: Data(secret.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestampMilliseconds)\n\(secret)".utf8), using: key)
        return Data(mac).base64EncodedString()
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        var query = [("access_token", token)]
        if let secret {
            let timestamp = Int64(Date().timeIntervalSince1970 * 1000)
            query += [("timestamp", String(timestamp)), ("sign", Self.signature(secret: secret, timestampMilliseconds: timestamp))]
        }
        let url = "\(endpoint)?\(PercentEncoding.form(query))"
        // Text with a link: a link card (plain title and text, opening the URL), since DingTalk's other
        // cards read their text as Markdown, which would reinterpret what the user wrote. Markdown: the
        // markdown message, or with a link an action card whose button opens it. `title` is what the
        // conversation list shows.
        let body: JSONValue =
            switch (message.format, message.url) {
            case (.text, let link?):
                ["msgtype": "link", "link": ["title": .string(message.title), "text": .string(message.bodyOrTitle), "messageUrl": .string(link)]]
            case (.text, nil):
                ["msgtype": "text", "text": ["content": .string(message.text)]]
            case (.markdown, let link?):
                ["msgtype": "actionCard", "actionCard": [
                    "title": .string(message.title), "text": .string(message.markdownText), "singleTitle": "Open", "singleURL": .string(link),
                ]]
            case (.markdown, nil):
                ["msgtype": "markdown", "markdown": ["title": .string(message.title), "text": .string(message.markdownText)]]
            }
        let answer = try await context.perform(.json(url, body))
        return answer.judge { json in
            guard let code = json["errcode"]?.int else { return .unexpected(answer) }
            switch code {
            case 0: return .accepted
            case 130101: return .rejected(json.reason(code: "errcode", message: "errmsg") + " (over 20 messages a minute)", transient: true)
            case 300001: return .rejected(json.reason(code: "errcode", message: "errmsg") + " (check DD_BOT_TOKEN)")
            case 310000: return .rejected(json.reason(code: "errcode", message: "errmsg") + " (signature, keyword or IP allow-list check failed; check DD_BOT_SECRET and the robot's security settings)")
            default: return .rejected(json.reason(code: "errcode", message: "errmsg"))
            }
        }
    }
}
