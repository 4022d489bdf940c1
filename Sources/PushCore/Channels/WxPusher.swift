import Foundation

/// WeChat through WxPusher's official account, to topics and/or users of an app.
public struct WxPusher: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "wxpusher",
        displayName: "WxPusher (WeChat)",
        defaultBaseURL: "https://wxpusher.zjiecode.com",
        variables: [
            .required("WXPUSHER_APP_TOKEN", secret: true, "the app's token (AT_...)"),
            .optional("WXPUSHER_TOPIC_IDS", "topic ids separated by ; (at most 5); this or WXPUSHER_UIDS is required"),
            .optional("WXPUSHER_UIDS", "user ids (UID_...) separated by ;; this or WXPUSHER_TOPIC_IDS is required"),
        ],
        rateLimits: [RateLimit(20, per: .seconds(10))],
        maximumLength: .characters(40000), rendersMarkdown: true)

    let endpoint: String
    let appToken: String
    let topicIDs: [Int]
    let uids: [String]

    public init?(configuration: Configuration) throws(ConfigurationError) {
        let topics = configuration.list("WXPUSHER_TOPIC_IDS", separators: [";", "；", ","])
        let uids = configuration.list("WXPUSHER_UIDS", separators: [";", "；", ","])
        let token = configuration["WXPUSHER_APP_TOKEN"]
        guard token != nil || topics != nil || uids != nil else { return nil }
        guard let token else { throw .missing(["WXPUSHER_APP_TOKEN"]) }
        guard !(topics ?? []).isEmpty || !(uids ?? []).isEmpty else { throw .missing(["WXPUSHER_TOPIC_IDS or WXPUSHER_UIDS"]) }
        var topicIDs: [Int] = []
        for topic in topics ?? [] {
            guard let id = Int(topic), id > 0 else {
                throw .invalid("WXPUSHER_TOPIC_IDS", "topic ids are numbers separated by ;, got \"\(topic)\"")
            }
            topicIDs.append(id)
        }
        guard topicIDs.count <= 5 else { throw .invalid("WXPUSHER_TOPIC_IDS", "WxPusher accepts at most 5 topics per message") }
        self.appToken = token
        self.topicIDs = topicIDs
        self.uids = uids ?? []
        endpoint = try configuration.baseURL(for: Self.descriptor) + "/api/send/message"
    }

    public var secrets: [String] { [appToken] }

    public var summary: String {
        var targets: [String] = []
        if !topicIDs.isEmpty { targets.append("topics \(topicIDs.map(String.init).joined(separator: ","))") }
        if !uids.isEmpty { targets.append("\(uids.count) user\(uids.count == 1 ? "" : "s")") }
        return "app \(Redactor.maskValue(appToken)), \(targets.joined(separator: " and "))"
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let body: JSONValue = [
            "appToken": .string(appToken),
            "content": .string(message.format == .markdown ? message.markdownText : message.text),
            // The summary is what the WeChat notification shows; WxPusher takes up to 100 characters.
            "summary": .string(String(message.title.prefix(100))),
            "contentType": message.format == .markdown ? 3 : 1,  // 3: Markdown
            "topicIds": .array(topicIDs.map(JSONValue.int)),
            "uids": .array(uids.map(JSONValue.string)),
        ]
        let answer = try await context.perform(.json(endpoint, body))
        return answer.judge { json in
            guard let code = json["code"]?.int else { return .unexpected(answer) }
            let reason = json.reason(code: "code", message: "msg")
            switch code {
            case 1000:
                // The request is accepted as a whole; each topic or user has its own outcome.
                let refused = (json["data"]?.array ?? []).filter { ($0["code"]?.int ?? 1000) != 1000 }
                guard refused.isEmpty else {
                    let names = refused.map { item in
                        let target = item["uid"]?.string ?? item["topicId"].map { "topic \($0.text)" } ?? "?"
                        return "\(target): \(item["status"]?.text ?? "code \(item["code"]?.text ?? "?")")"
                    }
                    return .rejected("not delivered to \(names.joined(separator: "; "))")
                }
                return .accepted
            case 1001, 1002: return .rejected(reason + " (check WXPUSHER_APP_TOKEN)")
            case 1004: return .rejected(reason + " (check WXPUSHER_TOPIC_IDS and WXPUSHER_UIDS)")
            case 1008: return .rejected(reason + " (too many messages; WxPusher allows about 2 a second)", transient: true)
            case 1010: return .rejected(reason + " (this machine's IP is not in the app's allow-list)")
            default: return .rejected(reason)
            }
        }
    }
}
