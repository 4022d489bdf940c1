import Foundation

/// WeChat through Aibotk (智能微秘书): to a group (room) or a friend (contact) by name.
public struct Aibotk: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "aibotk",
        displayName: "Aibotk (智能微秘书)",
        defaultBaseURL: "https://api-bot.aibotk.com",
        variables: [
            .required("AIBOTK_KEY", secret: true, "the apiKey from the Aibotk console (个人中心)"),
            .required("AIBOTK_TYPE", "room (a group) or contact (a friend)"),
            .required("AIBOTK_NAME", "the group's name or the friend's nickname"),
        ])

    let endpoint: String
    let key: String
    let isRoom: Bool
    let name: String

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let values = try configuration.group("AIBOTK_KEY", "AIBOTK_TYPE", "AIBOTK_NAME") else { return nil }
        key = values[0]
        switch values[1].lowercased() {
        case "room": isRoom = true
        case "contact": isRoom = false
        default: throw .invalid("AIBOTK_TYPE", "expected room (a group) or contact (a friend), got \"\(values[1])\"")
        }
        name = values[2]
        endpoint = try configuration.baseURL(for: Self.descriptor)
            + "/openapi/v1/chat/\(isRoom ? "room" : "contact")"
    }

    public var secrets: [String] { [key] }
    public var summary: String { "\(isRoom ? "group" : "friend") \(name), key \(Redactor.maskValue(key))" }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let body: JSONValue = [
            "apiKey": .string(key),
            isRoom ? "roomName" : "name": .string(name),
            "message": ["type": 1, "content": .string(message.text)],
        ]
        let answer = try await context.perform(.json(endpoint, body))
        return answer.judge { json in
            guard let code = json["code"]?.int else { return .unexpected(answer) }
            return code == 0 ? .accepted : .rejected(json.reason(code: "code", message: "msg", "message", "error"))
        }
    }
}
