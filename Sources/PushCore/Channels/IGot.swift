import Foundation

/// iGot's push aggregator, addressed by a push key.
public struct IGot: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "igot",
        displayName: "iGot",
        defaultBaseURL: "https://push.hellyw.com",
        variables: [.required("IGOT_PUSH_KEY", secret: true, "the push key from the iGot app")])

    let endpoint: String
    let key: String

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let key = configuration["IGOT_PUSH_KEY"] else { return nil }
        guard key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw .invalid("IGOT_PUSH_KEY", "an iGot key is letters and digits only")
        }
        self.key = key
        endpoint = try configuration.baseURL(for: Self.descriptor) + "/\(key)"
    }

    public var secrets: [String] { [key] }
    public var summary: String { "key \(Redactor.maskValue(key))" }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let answer = try await context.perform(.form(endpoint, [("title", message.title), ("content", message.body)]))
        return answer.judge { json in
            guard let code = json["ret"]?.int else { return .unexpected(answer) }
            return code == 0 ? .accepted : .rejected(json.reason(code: "ret", message: "errMsg") + " (check IGOT_PUSH_KEY)")
        }
    }
}
