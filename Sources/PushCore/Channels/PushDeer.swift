import Foundation

/// PushDeer (api2.pushdeer.com or a self-hosted server).
public struct PushDeer: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "pushdeer",
        displayName: "PushDeer",
        defaultBaseURL: "https://api2.pushdeer.com",
        variables: [
            .required("DEER_KEY", secret: true, "push key (PDU...) from the app's Key tab"),
            .optional("DEER_URL", "full endpoint of a self-hosted server, e.g. https://deer.example.com/message/push"),
        ],
        rendersMarkdown: true)

    static let path = "/message/push"

    let endpoint: String
    let key: String

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard Self.descriptor.variables.contains(where: { configuration.contains($0.name) }) else { return nil }
        guard let key = configuration["DEER_KEY"] else { throw .missing(["DEER_KEY"]) }
        self.key = key
        if let url = configuration["DEER_URL"] {
            let endpoint = try Configuration.validatedURL(url, variable: "DEER_URL").trimmingSuffix("/")
            // A bare origin (as the original's docs showed) would post to the site root: add the real path.
            let path = URL(string: endpoint)?.path ?? ""
            self.endpoint = path.isEmpty ? endpoint + Self.path : endpoint
        } else {
            endpoint = try configuration.baseURL(for: Self.descriptor) + Self.path
        }
    }

    public var secrets: [String] { [key] }
    public var summary: String { "\(endpoint) key \(Redactor.maskValue(key))" }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        // The phone's notification shows only `text`; `desp` is shown when the message is opened.
        // `desp` is read as Markdown: a text body is escaped so it shows as written.
        let desp = message.format == .markdown ? message.body : Markdown.escaped(message.body)
        let fields = [("pushkey", key), ("text", message.title), ("desp", desp), ("type", "markdown")]
        let answer = try await context.perform(.form(endpoint, fields))
        return answer.judge { json in
            guard let code = json["code"]?.int else { return .unexpected(answer) }
            guard code == 0 else { return .rejected(json.reason(code: "code", message: "error")) }
            // An unknown key still answers code 0, with `result: false` instead of one entry per device.
            switch json["content"]?["result"] {
            case .array(let devices) where !devices.isEmpty:
                return .accepted
            case .array:
                return .rejected("code 0 but content.result is empty: no device is registered for this key")
            default:
                return .rejected("code 0 but content.result is false: the server does not know this key (check DEER_KEY and DEER_URL)")
            }
        }
    }
}
