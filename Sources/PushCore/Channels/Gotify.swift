import Foundation

/// Gotify, a self-hosted push server: one message to an application's stream.
public struct Gotify: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "gotify",
        displayName: "Gotify",
        defaultBaseURL: nil,
        variables: [
            .required("GOTIFY_URL", "your Gotify server, e.g. https://gotify.example.com (a path prefix is kept)"),
            .required("GOTIFY_TOKEN", secret: true, "an application token (Apps tab), not a client token"),
            .optional("GOTIFY_PRIORITY", "0 to 10; default 5 (0 stores the message without notifying on Android)"),
        ],
        carriesLinks: true, carriesLevels: true, rendersMarkdown: true)

    static let defaultPriority = 5

    /// Gotify's Android app notifies from 4 and pops up from 8: urgent levels are raised, never lowered.
    static func priorityFloor(_ level: Level) -> Int {
        switch level {
        case .info, .success: return 0
        case .warning: return 6
        case .error: return 8
        case .critical: return 10
        }
    }

    let server: String
    let token: String
    let priority: Int

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard Self.descriptor.variables.contains(where: { configuration.contains($0.name) }) else { return nil }
        // GOTIFY_URL is the original's name; MCP_PUSH_GOTIFY_BASE_URL is accepted in its place.
        let url = configuration["GOTIFY_URL"].map { ("GOTIFY_URL", $0) }
            ?? configuration[Self.descriptor.baseURLVariable].map { (Self.descriptor.baseURLVariable, $0) }
        let token = configuration["GOTIFY_TOKEN"]
        guard let url, let token else {
            throw .missing([("GOTIFY_URL", url?.1), ("GOTIFY_TOKEN", token)].filter { $0.1 == nil }.map(\.0))
        }
        server = try Configuration.validatedURL(url.1, variable: url.0).trimmingSuffix("/")
        self.token = token
        priority = try configuration.int("GOTIFY_PRIORITY", in: 0...10) ?? Self.defaultPriority
    }

    public var secrets: [String] { [token] }
    public var summary: String { "\(server) app token \(Redactor.maskValue(token)), priority \(priority)" }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        var body: [String: JSONValue] = [
            "title": .string(message.title),
            "message": .string(message.bodyOrTitle),
            // Priority 0 keeps a quiet-hours message in Gotify without a notification.
            "priority": .int(message.silent ? 0 : max(priority, Self.priorityFloor(message.level))),
        ]
        // Gotify's clients open `client::notification.click.url` when the notification is tapped, and
        // render the message as Markdown when `client::display` says so.
        var extras: [String: JSONValue] = [:]
        if let url = message.url { extras["client::notification"] = ["click": ["url": .string(url)]] }
        if message.format == .markdown { extras["client::display"] = ["contentType": "text/markdown"] }
        if !extras.isEmpty { body["extras"] = .object(extras) }
        // The token goes in a header, never in the URL, where proxies would log it.
        let answer = try await context.perform(.json("\(server)/message", .object(body), headers: [("X-Gotify-Key", token)]))
        return answer.judge { json in
            if json["id"]?.int != nil { return .accepted }
            guard let code = json["errorCode"]?.int else { return .unexpected(answer) }
            let reason = json.reason(code: "errorCode", message: "errorDescription", "error")
            switch code {
            case 401, 403: return .rejected(reason + " (check GOTIFY_TOKEN: an application token, not a client token)")
            case 404: return .rejected(reason + " (check GOTIFY_URL)")
            default: return .rejected(reason)
            }
        }
    }
}
