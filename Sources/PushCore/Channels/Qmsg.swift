import Foundation

/// QQ through Qmsg酱's robot, to a person (`send`) or a group (`group`).
public struct Qmsg: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "qmsg",
        displayName: "Qmsg酱 (QQ)",
        defaultBaseURL: "https://qmsg.zendee.cn",
        variables: [
            .required("QMSG_KEY", secret: true, "the KEY from qmsg.zendee.cn"),
            .required("QMSG_TYPE", "send (a private message) or group (a group message)"),
        ])

    static let types: Set<String> = ["send", "group"]

    let endpoint: String
    let key: String
    let type: String

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let values = try configuration.group("QMSG_KEY", "QMSG_TYPE") else { return nil }
        key = values[0]
        type = values[1].lowercased()
        guard Self.types.contains(type) else {
            throw .invalid("QMSG_TYPE", "expected send (private) or group, got \"\(values[1])\"")
        }
        endpoint = try configuration.baseURL(for: Self.descriptor)
            + "/\(type)/\(PercentEncoding.encode(key))"
    }

    public var secrets: [String] { [key] }
    public var summary: String { "\(type == "send" ? "private" : "group") messages, key \(Redactor.maskValue(key))" }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let answer = try await context.perform(.form(endpoint, [("msg", message.text)]))
        return answer.judge { json in
            guard let code = json["code"]?.int else { return .unexpected(answer) }
            guard code == 0, json["success"]?.bool != false else {
                return .rejected(json.reason(code: "code", message: "reason"))
            }
            return .accepted
        }
    }
}
