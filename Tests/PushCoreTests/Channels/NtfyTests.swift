import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct NtfyTests {
    static let topic = "mcp-push_alerts-7f3k"
    static let accessToken = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"

    enum Access { case anonymous, token, password }

    /// ntfy's JSON publish (POST / with the topic in the body), with the server's auth rules,
    /// its error JSON, and the X-Actions header decoded as ntfy does (RFC 2047).
    static func service(access: Access = .anonymous) -> FakeService.Handler {
        { request in
            guard request.method == "POST", request.path == "/" else {
                return .raw(#"{"code":40401,"http":404,"error":"page not found"}"# + "\n", status: 404)
            }
            let authorization = request.headers["authorization"]
            let allowed: Bool
            switch access {
            case .anonymous: allowed = true
            case .token: allowed = authorization == "Bearer \(accessToken)"
            case .password: allowed = authorization == "Basic " + Data("phil:mypass-2024".utf8).base64EncodedString()
            }
            guard allowed else {
                return .raw(#"{"code":40101,"http":401,"error":"unauthorized","link":"https://ntfy.sh/docs/publish/#authentication"}"# + "\n", status: 401)
            }
            guard let body = request.json, let topic = body["topic"]?.string, topic.wholeMatch(of: /[-_A-Za-z0-9]{1,64}/) != nil else {
                return .raw(#"{"code":40009,"http":400,"error":"invalid request: topic invalid"}"# + "\n", status: 400)
            }
            guard let priority = body["priority"], case .int(let level) = priority, (1...5).contains(level) else {
                return .raw(#"{"code":40007,"http":400,"error":"invalid priority parameter","link":"https://ntfy.sh/docs/publish/#message-priority"}"# + "\n", status: 400)
            }
            let message: JSONValue = [
                "id": "sPs71M8A2T", "time": 1_732_406_400, "expires": 1_732_449_600, "event": "message",
                "topic": .string(topic), "title": body["title"] ?? .null, "message": body["message"] ?? "triggered",
                "priority": .int(level),
            ]
            return .json(message.compacted())
        }
    }

    /// What ntfy makes of an X-Actions header value: RFC 2047 words decoded.
    static func decodeHeader(_ value: String) -> String {
        guard value.hasPrefix("=?UTF-8?B?"), value.hasSuffix("?="),
            let data = Data(base64Encoded: String(value.dropFirst(10).dropLast(2)))
        else { return value }
        return String(decoding: data, as: UTF8.self)
    }

    @Test func publishesJSONWithTheDefaultPriority() async throws {
        try await FakeService.with(Self.service()) { fake in
            let channel = try makeChannel(Ntfy.self, ["NTFY_TOPIC": Self.topic, "MCP_PUSH_NTFY_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel) == .delivered(status: 200, messageID: "sPs71M8A2T"))
            let request = try #require(fake.lastRequest)
            #expect(request.headers["authorization"] == nil)
            #expect(request.headers["x-actions"] == nil)
            let body = try #require(request.json)
            #expect(body["topic"]?.string == Self.topic)
            #expect(body["title"]?.string == "Build finished")
            #expect(body["message"]?.string == "All 42 tests passed.\nSecond line & more")
            #expect(body["priority"] == .int(3))
        }
    }

    @Test func ntfyURLWinsOverBaseURL() async throws {
        try await FakeService.with(Self.service()) { fake in
            let channel = try makeChannel(Ntfy.self, [
                "NTFY_TOPIC": Self.topic, "NTFY_URL": fake.baseURL + "/", "MCP_PUSH_NTFY_BASE_URL": "http://127.0.0.1:9",
            ])
            #expect(try await deliver(channel).ok)
        }
        #expect(try makeChannel(Ntfy.self, ["NTFY_TOPIC": Self.topic]).server == "https://ntfy.sh")
    }

    @Test func tokenIsSentAsBearer() async throws {
        try await FakeService.with(Self.service(access: .token)) { fake in
            let channel = try makeChannel(Ntfy.self, [
                "NTFY_TOPIC": Self.topic, "NTFY_URL": fake.baseURL, "NTFY_TOKEN": Self.accessToken,
                "NTFY_USERNAME": "phil", "NTFY_PASSWORD": "ignored-when-a-token-is-set",
            ])
            #expect(try await deliver(channel).ok)
            #expect(channel.secrets.contains(Self.accessToken))
        }
    }

    @Test func userAndPasswordAreSentAsBasic() async throws {
        try await FakeService.with(Self.service(access: .password)) { fake in
            let channel = try makeChannel(Ntfy.self, [
                "NTFY_TOPIC": Self.topic, "NTFY_URL": fake.baseURL, "NTFY_USERNAME": "phil", "NTFY_PASSWORD": "mypass-2024",
            ])
            #expect(try await deliver(channel).ok)
            #expect(channel.secrets.contains("mypass-2024"))
            #expect(channel.secrets.contains(Data("phil:mypass-2024".utf8).base64EncodedString()))
        }
    }

    @Test func missingCredentialsAreUnauthorized() async throws {
        try await FakeService.with(Self.service(access: .token)) { fake in
            let channel = try makeChannel(Ntfy.self, ["NTFY_TOPIC": Self.topic, "NTFY_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(delivery.statusCode == 401)
            #expect(delivery.error?.hasPrefix("HTTP 401: code 40101: unauthorized (check NTFY_TOKEN") == true)
            #expect(!delivery.isTransient)
        }
    }

    @Test(arguments: [
        #"{"code":42901,"http":429,"error":"limit reached: too many requests","link":"https://ntfy.sh/docs/publish/#limitations"}"#,
        #"{"code":42908,"http":429,"error":"limit reached: daily message quota reached","link":"https://ntfy.sh/docs/publish/#limitations"}"#,
    ])
    func rateLimitsAreTransient(answer: String) async throws {
        try await FakeService.with({ _ in .raw(answer + "\n", status: 429) }) { fake in
            let channel = try makeChannel(Ntfy.self, ["NTFY_TOPIC": Self.topic, "NTFY_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.isTransient)
            #expect(delivery.error?.contains("limit reached") == true)
        }
    }

    @Test func actionsTravelInNtfysOwnSyntaxEncodedWhenNotASCII() async throws {
        try await FakeService.with(Self.service()) { fake in
            let ascii = "view, Open CI, https://ci.example.com/build/42, clear=true"
            let plain = try makeChannel(Ntfy.self, ["NTFY_TOPIC": Self.topic, "NTFY_URL": fake.baseURL, "NTFY_ACTIONS": ascii])
            #expect(try await deliver(plain).ok)
            #expect(fake.lastRequest?.headers["x-actions"] == ascii)

            let chinese = "view, 打开构建, https://ci.example.com/build/42; http, Neu starten, https://ci.example.com/retry, method=POST"
            let encoded = try makeChannel(Ntfy.self, ["NTFY_TOPIC": Self.topic, "NTFY_URL": fake.baseURL, "NTFY_ACTIONS": chinese])
            #expect(try await deliver(encoded).ok)
            let header = try #require(fake.lastRequest?.headers["x-actions"])
            #expect(header.unicodeScalars.allSatisfy { $0.isASCII })
            #expect(Self.decodeHeader(header) == chinese)
        }
    }

    @Test func prioritiesByNumberOrName() throws {
        #expect(try makeChannel(Ntfy.self, ["NTFY_TOPIC": Self.topic, "NTFY_PRIORITY": "5"]).priority == 5)
        #expect(try makeChannel(Ntfy.self, ["NTFY_TOPIC": Self.topic, "NTFY_PRIORITY": "High"]).priority == 4)
        #expect(throws: ConfigurationError.self) {
            try Ntfy(configuration: Configuration(["NTFY_TOPIC": Self.topic, "NTFY_PRIORITY": "9"]))
        }
    }

    @Test func partialOrBadConfigurationIsReported() {
        #expect(throws: ConfigurationError.missing(["NTFY_TOPIC"])) {
            try Ntfy(configuration: Configuration(["NTFY_URL": "https://ntfy.example.com"]))
        }
        #expect(throws: ConfigurationError.missing(["NTFY_PASSWORD"])) {
            try Ntfy(configuration: Configuration(["NTFY_TOPIC": Self.topic, "NTFY_USERNAME": "phil"]))
        }
        #expect(throws: ConfigurationError.missing(["NTFY_USERNAME"])) {
            try Ntfy(configuration: Configuration(["NTFY_TOPIC": Self.topic, "NTFY_PASSWORD": "pw"]))
        }
        #expect(throws: ConfigurationError.self) {
            try Ntfy(configuration: Configuration(["NTFY_TOPIC": "https://ntfy.sh/mytopic"]))
        }
    }
}
