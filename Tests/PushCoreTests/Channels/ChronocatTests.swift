import Foundation
@testable import PushCore
import Synchronization
import TestSupport
import Testing

@Suite struct ChronocatTests {
    static let token = "chronocat-token-0123456789"

    /// Chronocat's Red API: POST /api/message/send with a Bearer token; the sent message comes back.
    static func service(refusing refused: Set<String> = []) -> FakeService.Handler {
        { request in
            guard request.headers["authorization"] == "Bearer \(token)" else {
                return .raw(#"{"message":"Unauthorized"}"#, status: 401)
            }
            guard request.method == "POST", request.path == "/api/message/send", let body = request.json,
                let chatType = body["peer"]?["chatType"]?.int, let uin = body["peer"]?["peerUin"]?.string,
                body["elements"]?[0]?["elementType"]?.int == 1, body["elements"]?[0]?["textElement"]?["content"]?.string != nil
            else { return .raw(#"{"message":"Bad Request"}"#, status: 400) }
            if refused.contains(uin) { return .raw(#"{"message":"Internal Server Error"}"#, status: 500) }
            return .raw(#"{"msgId":"7284829375830000000","msgType":2,"chatType":\#(chatType),"peerUin":"\#(uin)","elements":[]}"#)
        }
    }

    func variables(_ fake: FakeService, targets: String = "user_id=10001;group_id=20002;group_id=20003") -> [String: String] {
        ["CHRONOCAT_URL": fake.baseURL, "CHRONOCAT_QQ": targets, "CHRONOCAT_TOKEN": Self.token]
    }

    @Test func sendsOneRequestPerTarget() async throws {
        try await FakeService.with(Self.service()) { fake in
            let channel = try makeChannel(Chronocat.self, variables(fake))
            #expect(try await deliver(channel).ok)
            let peers = fake.requests.compactMap { request in
                request.json.map { "\($0["peer"]?["chatType"]?.int ?? 0):\($0["peer"]?["peerUin"]?.string ?? "")" }
            }
            #expect(Set(peers) == ["1:10001", "2:20002", "2:20003"])
            #expect(fake.lastRequest?.json?["elements"]?[0]?["textElement"]?["content"]?.string?.hasPrefix("Build finished\n\n") == true)
        }
    }

    @Test func oneFailingTargetFailsTheChannelAndIsNamed() async throws {
        try await FakeService.with(Self.service(refusing: ["20003"])) { fake in
            let delivery = try await deliver(try makeChannel(Chronocat.self, variables(fake)))
            #expect(!delivery.ok)
            #expect(delivery.error?.hasPrefix("group 20003: HTTP 500 Internal Server Error") == true)
            #expect(delivery.error?.contains("2 of 3 targets delivered") == true)
            #expect(delivery.isTransient)
            #expect(fake.requests.count == 3)
        }
    }

    @Test func wrongTokenIsReported() async throws {
        try await FakeService.with(Self.service()) { fake in
            var variables = variables(fake, targets: "user_id=10001")
            variables["CHRONOCAT_TOKEN"] = "wrong-token-value"
            let delivery = try await deliver(try makeChannel(Chronocat.self, variables))
            #expect(delivery.error == #"user 10001: HTTP 401 Unauthorized: {"message":"Unauthorized"} (check CHRONOCAT_TOKEN)"#)
            #expect(!delivery.isTransient)
        }
    }

    @Test func configuration() throws {
        #expect(try Chronocat(configuration: Configuration([:])) == nil)
        #expect(throws: ConfigurationError.missing(["CHRONOCAT_TOKEN"])) {
            try Chronocat(configuration: Configuration(["CHRONOCAT_URL": "http://127.0.0.1:16530", "CHRONOCAT_QQ": "user_id=1"]))
        }
        for bad in ["10001", "user_id=1;qq=2", ";", "group_id=x"] {
            #expect(throws: ConfigurationError.self) {
                try Chronocat(configuration: Configuration(["CHRONOCAT_URL": "http://127.0.0.1:16530", "CHRONOCAT_QQ": bad, "CHRONOCAT_TOKEN": "t"]))
            }
        }
        let channel = try makeChannel(Chronocat.self, ["CHRONOCAT_URL": "http://127.0.0.1:16530/", "CHRONOCAT_QQ": "user_id=1; group_id=2", "CHRONOCAT_TOKEN": Self.token])
        #expect(channel.targets.map(\.description) == ["user 1", "group 2"])
        #expect(channel.endpoint == "http://127.0.0.1:16530/api/message/send")
        #expect(!channel.summary.contains(Self.token))
    }
}
