import Foundation

/// ntfy (ntfy.sh or a self-hosted server), published as JSON so titles need no header encoding.
public struct Ntfy: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "ntfy",
        displayName: "ntfy",
        defaultBaseURL: "https://ntfy.sh",
        variables: [
            .required("NTFY_TOPIC", secret: true, "topic name (letters, digits, - and _); on ntfy.sh anyone who knows it can read it"),
            .optional("NTFY_URL", "your ntfy server; default https://ntfy.sh"),
            .optional("NTFY_PRIORITY", "1 (min) to 5 (max), or min, low, default, high, max; default 3"),
            .optional("NTFY_TOKEN", secret: true, "access token (tk_...), sent as Bearer; wins over user and password"),
            .optional("NTFY_USERNAME", "user name for Basic auth, with NTFY_PASSWORD"),
            .optional("NTFY_PASSWORD", secret: true, "password for Basic auth, with NTFY_USERNAME"),
            .optional("NTFY_ACTIONS", "action buttons in ntfy's header syntax, e.g. view, Open, https://example.com"),
        ],
        // Longer messages would become attachments.
        maximumLength: .bytes(4096), carriesLinks: true, carriesLevels: true, rendersMarkdown: true)

    static let priorityNames = ["min": 1, "low": 2, "default": 3, "high": 4, "max": 5, "urgent": 5]
    /// ntfy's rate-limit codes: too many requests, daily message quota.
    static let rateLimitCodes: Set<Int> = [42901, 42908]

    package let server: String
    package let topic: String
    package let priority: Int
    package let authorization: String?
    let actions: String?
    let credentialSecrets: [String]

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard Self.descriptor.variables.contains(where: { configuration.contains($0.name) }) else { return nil }
        let user = configuration["NTFY_USERNAME"]
        let password = configuration["NTFY_PASSWORD"]
        let token = configuration["NTFY_TOKEN"]
        var missing: [String] = []
        if configuration["NTFY_TOPIC"] == nil { missing.append("NTFY_TOPIC") }
        if token == nil, (user == nil) != (password == nil) { missing.append(user == nil ? "NTFY_USERNAME" : "NTFY_PASSWORD") }
        guard missing.isEmpty, let topic = configuration["NTFY_TOPIC"] else { throw .missing(missing) }
        guard topic.isWord(lengths: 1...64) else {
            throw .invalid("NTFY_TOPIC", "a topic is 1 to 64 letters, digits, - or _ (no URL, no slash)")
        }
        self.topic = topic
        if let url = configuration["NTFY_URL"] {
            server = try Configuration.validatedURL(url, variable: "NTFY_URL").trimmingSuffix("/")
        } else {
            server = try configuration.baseURL(for: Self.descriptor)
        }
        priority = try Self.priority(configuration)
        if let token {
            authorization = "Bearer \(token)"
            credentialSecrets = [token]
        } else if let user, let password {
            let encoded = Data("\(user):\(password)".utf8).base64EncodedString()
            authorization = "Basic \(encoded)"
            // The encoded form is the credentials too, merely base64-encoded.
            credentialSecrets = [password, "\(user):\(password)", encoded]
        } else {
            authorization = nil
            credentialSecrets = []
        }
        actions = configuration["NTFY_ACTIONS"]
    }

    static func priority(_ configuration: Configuration) throws(ConfigurationError) -> Int {
        guard let value = configuration["NTFY_PRIORITY"] else { return 3 }
        if let named = priorityNames[value.lowercased()] { return named }
        guard let number = Int(value), (1...5).contains(number) else {
            throw .invalid("NTFY_PRIORITY", "expected 1 to 5 or min, low, default, high, max; got \"\(value)\"")
        }
        return number
    }

    public var secrets: [String] { [topic] + credentialSecrets }

    public var summary: String {
        let auth = authorization.map { $0.hasPrefix("Bearer") ? ", token" : ", user and password" } ?? ""
        return "\(server) topic \(Redactor.maskValue(topic)), priority \(priority)\(auth)"
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        // The level as ntfy's priority (never below NTFY_PRIORITY; at most 2 in quiet hours) and an emoji tag.
        let (floor, tag) = Self.priority(for: message.level)
        var body: [String: JSONValue] = [
            "topic": .string(topic),
            "title": .string(message.title),
            "message": .string(message.bodyOrTitle),
            "priority": .int(message.silent ? min(priority, 2) : max(priority, floor)),
        ]
        if let url = message.url { body["click"] = .string(url) }
        if message.format == .markdown { body["markdown"] = true }
        if let tag { body["tags"] = [.string(tag)] }
        var headers: [(String, String)] = []
        if let authorization { headers.append(("Authorization", authorization)) }
        // The JSON form wants actions as objects; the header keeps the user's own syntax and lets
        // ntfy parse it (a JSON publish carries headers through).
        if let actions { headers.append(("X-Actions", Self.headerValue(actions))) }
        // ntfy 2.16 and later replace the notification with the same sequence id (a run's message) in place.
        if let replacing = message.replacing { headers.append(("X-Sequence-ID", replacing)) }
        let answer = try await context.perform(.json(server + "/", .object(body), headers: headers))
        var delivery = judge(answer)
        let answered = answer.json
        // The id goes back in a header: only the letters and digits ntfy's ids are made of.
        delivery.messageID = message.replacing ?? answered?["id"]?.string.flatMap { $0.isWord(lengths: 1...64) ? $0 : nil }
        // Older servers ignore the sequence id and publish a new notification; their answer has none.
        delivery.edited = delivery.ok && message.replacing != nil && answered?["sequence_id"]?.string == message.replacing
        return delivery
    }

    private func judge(_ answer: HTTPAnswer) -> Delivery {
        answer.judge { json in
            if json["id"]?.string != nil { return .accepted }
            guard let code = json["code"]?.int else { return .unexpected(answer) }
            let reason = json.reason(code: "code", message: "error")
            switch code {
            case let code where Self.rateLimitCodes.contains(code):
                return .rejected(reason, transient: true)
            case 40101, 40301:
                return .rejected(reason + " (check NTFY_TOKEN, or NTFY_USERNAME and NTFY_PASSWORD, and the topic's access rights)")
            case 40018:
                return .rejected(reason + " (check NTFY_ACTIONS)")
            default:
                return .rejected(reason)
            }
        }
    }

    static func priority(for level: Level) -> (floor: Int, tag: String?) {
        switch level {
        case .info: return (1, nil)
        case .success: return (1, "white_check_mark")
        case .warning: return (4, "warning")
        case .error: return (5, "x")
        case .critical: return (5, "rotating_light")
        }
    }

    /// ASCII text as is; anything else as an RFC 2047 encoded word, which ntfy decodes.
    static func headerValue(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return text }
        return "=?UTF-8?B?" + Data(text.utf8).base64EncodedString() + "?="
    }
}
