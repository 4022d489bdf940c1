import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct QmsgTests {
    static let key = "e0a1b2c3d4e5f60718293a4b5c6d7e8f"

    /// Qmsg酱: POST /{send|group}/{KEY}, form field msg.
    static let service: FakeService.Handler = { request in
        let parts = request.path.split(separator: "/").map(String.init)
        guard request.method == "POST", parts.count == 2, ["send", "group"].contains(parts[0]) else {
            return .raw("<html><body>404 Not Found</body></html>", status: 404, contentType: "text/html")
        }
        guard parts[1] == key else {
            return .raw(#"{"success":false,"reason":"无效的KEY，请检查后重试","code":500,"info":{}}"#)
        }
        guard request.contentType.hasPrefix("application/x-www-form-urlencoded"), let text = request.form["msg"], !text.isEmpty else {
            return .raw(#"{"success":false,"reason":"消息内容不能为空","code":500,"info":{}}"#)
        }
        return .raw(#"{"success":true,"reason":"操作成功","code":0,"info":{}}"#)
    }

    @Test(arguments: ["send", "group"])
    func deliversAsAFormField(type: String) async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(Qmsg.self, ["QMSG_KEY": Self.key, "QMSG_TYPE": type, "MCP_PUSH_QMSG_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel) == .delivered(status: 200))
            #expect(fake.lastRequest?.path == "/\(type)/\(Self.key)")
            #expect(fake.lastRequest?.form["msg"] == "Build finished\n\nAll 42 tests passed.\nSecond line & more")
            #expect(fake.lastRequest?.rawQuery == "")
        }
    }

    @Test func wrongKeyIsReportedWithoutTheKey() async throws {
        try await FakeService.with(Self.service) { fake in
            let wrong = "ffffffffffffffffffffffffffffffff"
            let channel = try makeChannel(Qmsg.self, ["QMSG_KEY": wrong, "QMSG_TYPE": "send", "MCP_PUSH_QMSG_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(delivery.error == "code 500: 无效的KEY，请检查后重试")
        }
    }

    @Test func configuration() throws {
        #expect(try Qmsg(configuration: Configuration([:])) == nil)
        #expect(throws: ConfigurationError.missing(["QMSG_TYPE"])) { try Qmsg(configuration: Configuration(["QMSG_KEY": Self.key])) }
        #expect(throws: ConfigurationError.invalid("QMSG_TYPE", "expected send (private) or group, got \"private\"")) {
            try Qmsg(configuration: Configuration(["QMSG_KEY": Self.key, "QMSG_TYPE": "private"]))
        }
        let channel = try makeChannel(Qmsg.self, ["QMSG_KEY": Self.key, "QMSG_TYPE": "GROUP"])
        #expect(channel.endpoint == "https://qmsg.zendee.cn/group/\(Self.key)")
        #expect(channel.secrets == [Self.key] && !channel.summary.contains(Self.key))
    }
}
