import Foundation

/// A Synology Chat channel's incoming webhook on the user's NAS.
public struct SynologyChat: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "synology_chat",
        displayName: "Synology Chat",
        defaultBaseURL: nil,
        variables: [
            .required("CHAT_URL", "the incoming webhook URL up to token=, e.g. https://nas:5001/webapi/entry.cgi?api=SYNO.Chat.External&method=incoming&version=2&token="),
            .required("CHAT_TOKEN", secret: true, "the webhook token (with or without its %22 quotes)"),
        ])

    let url: String
    let token: String

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let values = try configuration.group("CHAT_URL", "CHAT_TOKEN") else { return nil }
        _ = try Configuration.validatedURL(values[0], variable: "CHAT_URL")
        // Synology issues the token wrapped in quotes (%22...%22); users copy it with or without them.
        var token = values[1]
        for quote in ["%22", "\""] where token.hasPrefix(quote) && token.hasSuffix(quote) && token.count > 2 * quote.count {
            token = String(token.dropFirst(quote.count).dropLast(quote.count))
        }
        self.token = token
        var base = values[0]
        if !base.hasSuffix("token=") {
            base += base.contains("?") ? (base.hasSuffix("&") || base.hasSuffix("?") ? "token=" : "&token=") : "?token="
        }
        url = base + "%22" + PercentEncoding.encode(token) + "%22"
    }

    public var secrets: [String] { [token] }

    public var summary: String {
        let host = URL(string: url)?.host ?? "?"
        return "NAS \(host), token \(Redactor.maskValue(token))"
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        // The form's single field is JSON text, encoded as a form value.
        let payload = String(decoding: try JSONValue.object(["text": .string(message.text)]).encoded(), as: UTF8.self)
        let answer = try await context.perform(.form(url, [("payload", payload)]))
        return answer.judge { json in
            if json["success"]?.bool == true { return .accepted }
            guard let error = json["error"] else { return .unexpected(answer) }
            let reason = error.reason(code: "code", message: "errors")
            switch error["code"]?.int {
            case 404?: return .rejected(reason + " (check CHAT_TOKEN and CHAT_URL)")
            case 410?: return .rejected(reason + " (Synology refused the length; send a shorter message)")
            default: return .rejected(reason)
            }
        }
    }
}
