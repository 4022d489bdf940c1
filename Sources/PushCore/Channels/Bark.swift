import Foundation

/// Bark (iOS push via APNs): api.day.app or a self-hosted bark-server.
public struct Bark: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "bark",
        displayName: "Bark (iOS)",
        defaultBaseURL: "https://api.day.app",
        variables: [
            .required("BARK_PUSH", secret: true, "device key, or the full URL the app shows (https://api.day.app/KEY or your server's)"),
            .optional("BARK_ARCHIVE", "1 saves the message in the app's history, 0 does not"),
            .optional("BARK_GROUP", "group name shown in the app"),
            .optional("BARK_SOUND", "sound name, e.g. minuet"),
            .optional("BARK_ICON", "icon URL (iOS 15+)"),
            .optional("BARK_LEVEL", "active, timeSensitive, passive or critical"),
            .optional("BARK_URL", "URL opened when the notification is tapped"),
        ],
        // APNs payloads are capped at 4 KB, JSON and options included.
        maximumLength: .bytes(3000), carriesLinks: true, carriesLevels: true)

    static let levels: Set<String> = ["active", "timeSensitive", "passive", "critical"]

    let endpoint: String
    let deviceKey: String
    let options: [String: JSONValue]

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let push = configuration["BARK_PUSH"] else { return nil }
        if push.lowercased().hasPrefix("http://") || push.lowercased().hasPrefix("https://") {
            // A full URL names the server and ends with the key: https://host[/prefix]/KEY[/]
            _ = try Configuration.validatedURL(push, variable: "BARK_PUSH")
            let trimmed = push.trimmingSuffix("/")
            guard let url = URL(string: trimmed), let key = url.path.split(separator: "/").last.map(String.init),
                let prefixEnd = trimmed.range(of: "/" + key, options: .backwards)?.lowerBound
            else {
                throw .invalid("BARK_PUSH", "a URL must end with the device key, e.g. https://api.day.app/KEY")
            }
            deviceKey = key
            endpoint = String(trimmed[..<prefixEnd]) + "/push"
        } else {
            deviceKey = push
            endpoint = try configuration.baseURL(for: Self.descriptor) + "/push"
        }
        if let level = configuration["BARK_LEVEL"], !Self.levels.contains(level) {
            throw .invalid("BARK_LEVEL", "expected one of \(Self.levels.sorted().joined(separator: ", ")), got \"\(level)\"")
        }
        options = [
            "isArchive": configuration["BARK_ARCHIVE"].json,
            "group": configuration["BARK_GROUP"].json,
            "sound": configuration["BARK_SOUND"].json,
            "icon": configuration["BARK_ICON"].json,
            "level": configuration["BARK_LEVEL"].json,
            "url": configuration["BARK_URL"].json,
        ]
    }

    public var secrets: [String] { [deviceKey] }
    public var summary: String { "\(endpoint.replacingOccurrences(of: "/push", with: "")) device \(Redactor.maskValue(deviceKey))" }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        var body = options
        body["device_key"] = .string(deviceKey)
        // bark-server needs a body; a title-only message goes as the body alone, not twice,
        // so the text still fits APNs' 4 KB.
        if message.body.isEmpty {
            body["body"] = .string(message.title)
        } else {
            body["title"] = .string(message.title)
            body["body"] = .string(message.body)
        }
        // The message's own link wins over BARK_URL: it is where this notification leads.
        if let url = message.url { body["url"] = .string(url) }
        // Urgent levels break through Focus (timeSensitive) or even silent mode (critical); the others
        // keep BARK_LEVEL.
        switch message.level {
        case .info, .success: break
        case .warning, .error: body["level"] = "timeSensitive"
        case .critical: body["level"] = "critical"
        }
        // Quiet hours: delivered to the notification list without sound or wake.
        if message.silent { body["level"] = "passive" }
        let answer = try await context.perform(.json(endpoint, .object(body)))
        return answer.judge { json in
            json["code"]?.int == 200 ? .accepted : .rejected(json.reason(code: "code", message: "message"))
        }
    }
}
