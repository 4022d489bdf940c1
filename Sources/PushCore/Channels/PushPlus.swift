import Foundation

/// PushPlus (推送加): WeChat and other channels through www.pushplus.plus.
public struct PushPlus: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "pushplus",
        displayName: "PushPlus",
        defaultBaseURL: "https://www.pushplus.plus",
        variables: [
            .required("PUSH_PLUS_TOKEN", secret: true, "your token from www.pushplus.plus (user center)"),
            .optional("PUSH_PLUS_USER", "group code (topic) for one-to-many messages"),
            .optional("PUSH_PLUS_TEMPLATE", "template of text messages: txt (default, keeps line breaks), html, json, ...; Markdown messages use markdown"),
            .optional("PUSH_PLUS_CHANNEL", "wechat (service default), webhook, cp, mail, sms"),
            .optional("PUSH_PLUS_WEBHOOK", "webhook code configured on PushPlus, for the webhook and cp channels"),
            .optional("PUSH_PLUS_CALLBACKURL", "URL PushPlus calls with the final delivery result"),
            .optional("PUSH_PLUS_TO", "friend token or WeCom user id to send to"),
        ],
        maximumLength: .characters(20000), rendersMarkdown: true)

    /// Plain text: `html`, the service's own default, would run the lines together.
    static let defaultTemplate = "txt"

    let endpoint: String
    let token: String
    let template: String
    let options: [String: JSONValue]

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard Self.descriptor.variables.contains(where: { configuration.contains($0.name) }) else { return nil }
        guard let token = configuration["PUSH_PLUS_TOKEN"] else { throw .missing(["PUSH_PLUS_TOKEN"]) }
        self.token = token
        template = configuration["PUSH_PLUS_TEMPLATE"] ?? Self.defaultTemplate
        if let callback = configuration["PUSH_PLUS_CALLBACKURL"] {
            _ = try Configuration.validatedURL(callback, variable: "PUSH_PLUS_CALLBACKURL")
        }
        options = [
            "topic": configuration["PUSH_PLUS_USER"].json,
            "channel": configuration["PUSH_PLUS_CHANNEL"].json,
            "webhook": configuration["PUSH_PLUS_WEBHOOK"].json,
            "callbackUrl": configuration["PUSH_PLUS_CALLBACKURL"].json,
            "to": configuration["PUSH_PLUS_TO"].json,
        ]
        // Always HTTPS: the original fell back to a legacy plain-HTTP host, sending the token in clear.
        endpoint = try configuration.baseURL(for: Self.descriptor) + "/send"
    }

    public var secrets: [String] { [token] }

    public var summary: String {
        var text = "token \(Redactor.maskValue(token)), template \(template)"
        if let topic = options["topic"]?.string { text += ", topic \(topic)" }
        if let channel = options["channel"]?.string { text += ", channel \(channel)" }
        return text
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        var content = message.bodyOrTitle
        // PUSH_PLUS_TEMPLATE is for text; a Markdown message goes with PushPlus's markdown template.
        let template = message.format == .markdown ? "markdown" : template
        if message.format == .markdown, message.body.isEmpty { content = Markdown.escaped(message.title) }
        if template == "html" { content = content.replacingOccurrences(of: "\n", with: "<br>") }
        var body = options
        body["token"] = .string(token)
        body["title"] = .string(message.title)
        body["content"] = .string(content)
        body["template"] = .string(template)
        let answer = try await context.perform(.json(endpoint, .object(body)))
        return answer.judge { json in
            guard let code = json["code"]?.int else { return .unexpected(answer) }
            let reason = json.reason(code: "code", message: "msg")
            switch code {
            case 200: return .accepted
            case 500: return .rejected(reason, transient: true)
            case 900:
                return .rejected(reason + " (PushPlus restricts accounts that send too often, over 200 a day: stop sending through it for today)")
            case 903: return .rejected(reason + " (check PUSH_PLUS_TOKEN: a token from www.pushplus.plus)")
            case 905: return .rejected(reason + " (complete the account's real-name verification on www.pushplus.plus)")
            default: return .rejected(reason)
            }
        }
    }
}
