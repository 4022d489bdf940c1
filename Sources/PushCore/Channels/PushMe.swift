import Foundation

/// PushMe (push.i-i.me or a self-hosted PushMeServer), addressed by a push key.
public struct PushMe: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "pushme",
        displayName: "PushMe",
        defaultBaseURL: "https://push.i-i.me",
        variables: [
            .required("PUSHME_KEY", secret: true, "the push_key from the PushMe app"),
            .optional("PUSHME_URL", "a self-hosted PushMeServer, e.g. http://127.0.0.1:3010 (default https://push.i-i.me)"),
        ])

    let endpoint: String
    let key: String

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let key = configuration["PUSHME_KEY"] else {
            if configuration.contains("PUSHME_URL") { throw .missing(["PUSHME_KEY"]) }
            return nil
        }
        self.key = key
        // PUSHME_URL (the original's override) wins over MCP_PUSH_PUSHME_BASE_URL.
        if let url = configuration["PUSHME_URL"] {
            endpoint = try Configuration.validatedURL(url, variable: "PUSHME_URL")
        } else {
            endpoint = try configuration.baseURL(for: Self.descriptor) + "/"
        }
    }

    public var secrets: [String] { [key] }
    public var summary: String { "key \(Redactor.maskValue(key))" + (endpoint == "https://push.i-i.me/" ? "" : " via \(endpoint)") }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let answer = try await context.perform(
            .form(endpoint, [("push_key", key), ("title", message.title), ("content", message.body), ("type", "text")]))
        // PushMe answers the plain text `success`, and a plain-text reason otherwise.
        let text = answer.text.trimmingWhitespace()
        if answer.isSuccess && text == "success" { return .delivered(status: answer.status) }
        let transient = answer.isTransientStatus
        if answer.isSuccess { return .rejected(status: answer.status, "PushMe refused: \(answer.snippet) (check PUSHME_KEY)") }
        return .rejected(status: answer.status, answer.httpFailureSummary, transient: transient, retryAfter: answer.retryAfterHeader)
    }
}
