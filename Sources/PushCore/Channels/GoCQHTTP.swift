import Foundation

/// QQ through a OneBot v11 HTTP server (go-cqhttp, NapCat, Lagrange, ...).
public struct GoCQHTTP: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "gocqhttp",
        displayName: "go-cqhttp (QQ, OneBot v11)",
        defaultBaseURL: nil,
        variables: [
            .required("GOBOT_URL", "the OneBot action URL, e.g. http://127.0.0.1:5700/send_private_msg (or /send_group_msg)"),
            .required("GOBOT_QQ", "user_id=<QQ number> for a person, or group_id=<group number> for a group"),
            .optional("GOBOT_TOKEN", secret: true, "access token, when the OneBot server sets one (sent as Authorization: Bearer)"),
        ])

    enum Target: Equatable {
        case user(Int)
        case group(Int)
    }

    let url: String
    let target: Target
    let token: String?

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let values = try configuration.group("GOBOT_URL", "GOBOT_QQ") else {
            if configuration.contains("GOBOT_TOKEN") { throw .missing(["GOBOT_URL", "GOBOT_QQ"]) }
            return nil
        }
        url = try Configuration.validatedURL(values[0], variable: "GOBOT_URL")
        target = try Self.target(values[1])
        token = configuration["GOBOT_TOKEN"]
    }

    static func target(_ value: String) throws(ConfigurationError) -> Target {
        let parts = value.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
        if parts.count == 2, let number = Int(parts[1]), number > 0 {
            switch parts[0] {
            case "user_id": return .user(number)
            case "group_id": return .group(number)
            default: break
            }
        }
        throw .invalid("GOBOT_QQ", "expected user_id=<QQ number> or group_id=<group number>, got \"\(value)\"")
    }

    public var secrets: [String] { token.map { [$0] } ?? [] }

    public var summary: String {
        let who: String
        switch target {
        case .user(let id): who = "QQ user \(id)"
        case .group(let id): who = "QQ group \(id)"
        }
        return "\(who) via \(url)" + (token == nil ? "" : ", token \(Redactor.maskValue(token!))")
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        // auto_escape: the text is sent as plain text, so `[CQ:...]` in agent output is not interpreted.
        var body: [String: JSONValue] = ["message": .string(message.text), "auto_escape": true]
        switch target {
        case .user(let id): body["user_id"] = .int(id)
        case .group(let id): body["group_id"] = .int(id)
        }
        let headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
        let answer = try await context.perform(.json(url, .object(body), headers: headers))
        switch answer.status {
        case 401: return .rejected(status: 401, "HTTP 401: the OneBot server wants an access token (set GOBOT_TOKEN)")
        case 403: return .rejected(status: 403, "HTTP 403: access token refused (check GOBOT_TOKEN)")
        case 404: return .rejected(status: 404, "HTTP 404: unknown action (check GOBOT_URL, e.g. .../send_private_msg)")
        default: break
        }
        return answer.judge { json in
            guard let status = json["status"]?.string else { return .unexpected(answer) }
            switch status {
            // `async`: the implementation queued the message itself.
            case "ok", "async": return .accepted
            default: return .rejected(json.reason(code: "retcode", message: "wording", "msg"))
            }
        }
    }
}
