import Foundation

/// QQ through Chronocat's Red protocol API: one request per configured person or group.
public struct Chronocat: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "chronocat",
        displayName: "Chronocat (QQ)",
        defaultBaseURL: nil,
        variables: [
            .required("CHRONOCAT_URL", "your Chronocat server, e.g. http://127.0.0.1:16530"),
            .required("CHRONOCAT_QQ", "targets separated by ;, e.g. user_id=10001;group_id=20002 (several of each allowed)"),
            .required("CHRONOCAT_TOKEN", secret: true, "the token from Chronocat's configuration"),
        ])

    struct Target: Equatable, CustomStringConvertible {
        /// Red protocol chat types.
        enum Kind: Int { case user = 1, group = 2 }
        let kind: Kind
        let number: String

        var description: String { "\(kind == .user ? "user" : "group") \(number)" }
    }

    let endpoint: String
    let targets: [Target]
    let token: String

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let values = try configuration.group("CHRONOCAT_URL", "CHRONOCAT_QQ", "CHRONOCAT_TOKEN") else { return nil }
        endpoint = try Configuration.validatedURL(values[0], variable: "CHRONOCAT_URL").trimmingSuffix("/") + "/api/message/send"
        targets = try Self.targets(values[1])
        token = values[2]
    }

    static func targets(_ value: String) throws(ConfigurationError) -> [Target] {
        var targets: [Target] = []
        for item in value.split(whereSeparator: { $0 == ";" || $0 == "；" }) {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
            let kind: Target.Kind? = parts.first == "user_id" ? .user : parts.first == "group_id" ? .group : nil
            guard parts.count == 2, let kind, !parts[1].isEmpty, parts[1].allSatisfy(\.isNumber) else {
                throw .invalid("CHRONOCAT_QQ", "expected user_id=<QQ number> or group_id=<group number>, separated by ;, got \"\(item)\"")
            }
            targets.append(Target(kind: kind, number: parts[1]))
        }
        guard !targets.isEmpty else { throw .invalid("CHRONOCAT_QQ", "no target: expected e.g. user_id=10001;group_id=20002") }
        return targets
    }

    public var secrets: [String] { [token] }

    public var summary: String {
        "\(targets.map(\.description).joined(separator: ", ")) via \(endpoint.replacingOccurrences(of: "/api/message/send", with: ""))"
    }

    func request(to target: Target, text: String) throws -> HTTPRequestSpec {
        let body: JSONValue = [
            "peer": ["chatType": .int(target.kind.rawValue), "peerUin": .string(target.number)],
            "elements": [["elementType": 1, "textElement": ["content": .string(text)]]],
        ]
        return try .json(endpoint, body, headers: [("Authorization", "Bearer \(token)")])
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        // Every target gets its own request, concurrently; the channel succeeds only if all do.
        let deliveries = try await withThrowingTaskGroup(of: (Int, Delivery).self) { group in
            for (index, target) in targets.enumerated() {
                group.addTask {
                    let answer = try await context.perform(try self.request(to: target, text: message.text))
                    if answer.isSuccess { return (index, .delivered(status: answer.status)) }
                    let hint = answer.status == 401 || answer.status == 403 ? " (check CHRONOCAT_TOKEN)" : ""
                    return (index, .rejected(status: answer.status, answer.httpFailureSummary + hint, transient: answer.isTransientStatus))
                }
            }
            var results: [(Int, Delivery)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let failures = zip(targets, deliveries).filter { !$0.1.ok }
        guard !failures.isEmpty else { return .delivered(status: deliveries.first?.statusCode ?? 200) }
        let reason = failures.map { "\($0.0): \($0.1.error ?? "failed")" }.joined(separator: "; ")
        let delivered = targets.count - failures.count
        return .rejected(
            status: failures[0].1.statusCode,
            reason + (delivered > 0 ? " (\(delivered) of \(targets.count) targets delivered)" : ""),
            transient: failures.allSatisfy { $0.1.isTransient })
    }
}
