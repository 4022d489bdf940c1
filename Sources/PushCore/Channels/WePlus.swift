import Foundation

/// WeChat through the WePlus bot (微加机器人).
public struct WePlus: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "weplus",
        displayName: "WePlus bot (微加机器人)",
        defaultBaseURL: "https://www.weplusbot.com",
        variables: [
            .required("WE_PLUS_BOT_TOKEN", secret: true, "the token from weplusbot.com"),
            .optional("WE_PLUS_BOT_RECEIVER", "a friend's wxid or a group code; empty sends to yourself"),
            .optional("WE_PLUS_BOT_VERSION", "pro (default) or personal"),
        ])

    /// Above this many characters the service wants the html template.
    static let textTemplateLimit = 800

    let endpoint: String
    let token: String
    let receiver: String
    let version: String

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let token = configuration["WE_PLUS_BOT_TOKEN"] else {
            if configuration.contains("WE_PLUS_BOT_RECEIVER") || configuration.contains("WE_PLUS_BOT_VERSION") {
                throw .missing(["WE_PLUS_BOT_TOKEN"])
            }
            return nil
        }
        self.token = token
        receiver = configuration["WE_PLUS_BOT_RECEIVER"] ?? ""
        version = configuration["WE_PLUS_BOT_VERSION"]?.lowercased() ?? "pro"
        guard version == "pro" || version == "personal" else {
            throw .invalid("WE_PLUS_BOT_VERSION", "expected pro or personal, got \"\(version)\"")
        }
        endpoint = try configuration.baseURL(for: Self.descriptor) + "/send"
    }

    public var secrets: [String] { [token] }
    public var summary: String { "\(version) bot \(Redactor.maskValue(token)), to \(receiver.isEmpty ? "yourself" : receiver)" }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let long = message.body.count > Self.textTemplateLimit
        // Long content must go as html: escape it and keep its line breaks.
        let content = long ? HTMLText.escaped(message.body).replacingOccurrences(of: "\n", with: "<br>") : message.body
        let body: JSONValue = [
            "token": .string(token), "title": .string(message.title), "content": .string(content),
            "template": .string(long ? "html" : "txt"), "receiver": .string(receiver), "version": .string(version),
        ]
        let answer = try await context.perform(.json(endpoint, body))
        return answer.judge { json in
            guard let code = json["code"]?.int else { return .unexpected(answer) }
            return code == 200 ? .accepted : .rejected(json.reason(code: "code", message: "msg"))
        }
    }
}
