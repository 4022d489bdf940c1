import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct AibotkTests {
    static let key = "aibotk-api-key-0123456789"

    /// Aibotk open API: /openapi/v1/chat/room with roomName, /chat/contact with name; code 0 on success.
    static let service: FakeService.Handler = { request in
        guard request.method == "POST", let body = request.json else { return .raw(#"{"code":404,"msg":"not found"}"#, status: 404) }
        guard body["apiKey"]?.string == key else { return .raw(#"{"code":401,"msg":"apiKey错误"}"#) }
        guard body["message"]?["type"]?.int == 1, body["message"]?["content"]?.string?.isEmpty == false else {
            return .raw(#"{"code":500,"msg":"消息内容不能为空"}"#)
        }
        switch request.path {
        case "/openapi/v1/chat/room" where body["roomName"]?.string == "构建群": return .raw(#"{"code":0,"msg":"success","data":{}}"#)
        case "/openapi/v1/chat/contact" where body["name"]?.string == "Alice": return .raw(#"{"code":0,"msg":"success","data":{}}"#)
        default: return .raw(#"{"code":500,"msg":"未找到该群或好友"}"#)
        }
    }

    @Test(arguments: [("room", "构建群"), ("contact", "Alice")])
    func deliversToAGroupOrAFriend(type: String, name: String) async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(Aibotk.self, ["AIBOTK_KEY": Self.key, "AIBOTK_TYPE": type, "AIBOTK_NAME": name, "MCP_PUSH_AIBOTK_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel).ok)
            let content = fake.lastRequest?.json?["message"]?["content"]?.string
            #expect(content == "Build finished\n\nAll 42 tests passed.\nSecond line & more", "no brand line prepended")
        }
    }

    @Test func unknownNameIsReported() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(Aibotk.self, ["AIBOTK_KEY": Self.key, "AIBOTK_TYPE": "room", "AIBOTK_NAME": "nobody", "MCP_PUSH_AIBOTK_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel).error == "code 500: 未找到该群或好友")
        }
    }

    @Test func configuration() throws {
        #expect(try Aibotk(configuration: Configuration([:])) == nil)
        #expect(throws: ConfigurationError.missing(["AIBOTK_TYPE", "AIBOTK_NAME"])) { try Aibotk(configuration: Configuration(["AIBOTK_KEY": Self.key])) }
        #expect(throws: ConfigurationError.self) {
            try Aibotk(configuration: Configuration(["AIBOTK_KEY": Self.key, "AIBOTK_TYPE": "group", "AIBOTK_NAME": "x"]))
        }
    }
}
