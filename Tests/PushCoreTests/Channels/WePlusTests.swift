import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct WePlusTests {
    static let token = "weplus-token-0123456789abcdef"

    /// WePlus bot: POST /send JSON; code 200 on success, msg otherwise.
    static let service: FakeService.Handler = { request in
        guard request.method == "POST", request.path == "/send", let body = request.json else {
            return .raw(#"{"code":404,"msg":"not found","data":null}"#, status: 404)
        }
        guard body["token"]?.string == token else { return .raw(#"{"code":500,"msg":"token错误","data":null}"#) }
        guard ["txt", "html"].contains(body["template"]?.string ?? ""), ["pro", "personal"].contains(body["version"]?.string ?? "") else {
            return .raw(#"{"code":500,"msg":"参数错误","data":null}"#)
        }
        return .raw(#"{"code":200,"msg":"请求成功","data":"a3f1c2"}"#)
    }

    func channel(_ fake: FakeService, _ extra: [String: String] = [:]) throws -> WePlus {
        try makeChannel(WePlus.self, ["WE_PLUS_BOT_TOKEN": Self.token, "MCP_PUSH_WEPLUS_BASE_URL": fake.baseURL].merging(extra) { $1 })
    }

    @Test func shortTextGoesAsTxt() async throws {
        try await FakeService.with(Self.service) { fake in
            #expect(try await deliver(try channel(fake, ["WE_PLUS_BOT_RECEIVER": "wxid_abc"])).ok)
            let body = try #require(fake.lastRequest?.json)
            #expect(body["template"]?.string == "txt" && body["version"]?.string == "pro")
            #expect(body["receiver"]?.string == "wxid_abc")
            #expect(body["content"]?.string == "All 42 tests passed.\nSecond line & more")
        }
    }

    @Test func longTextGoesAsEscapedHTMLWithLineBreaks() async throws {
        try await FakeService.with(Self.service) { fake in
            let content = "<b>&</b>\n" + String(repeating: "x", count: 900)
            let delivery = try await withContext { try await channel(fake, ["WE_PLUS_BOT_VERSION": "personal"]).send(Message(title: "Log", body: content), context: $0) }
            #expect(delivery.ok)
            let body = try #require(fake.lastRequest?.json)
            #expect(body["template"]?.string == "html")
            #expect(body["content"]?.string?.hasPrefix("&lt;b&gt;&amp;&lt;/b&gt;<br>xxx") == true)
        }
    }

    @Test func refusalIsReported() async throws {
        try await FakeService.with(Self.service) { fake in
            let delivery = try await deliver(try channel(fake, ["WE_PLUS_BOT_TOKEN": "wrong-token-000"]))
            #expect(delivery.error == "code 500: token错误")
        }
        #expect(throws: ConfigurationError.self) { try WePlus(configuration: Configuration(["WE_PLUS_BOT_TOKEN": "t", "WE_PLUS_BOT_VERSION": "free"])) }
        #expect(throws: ConfigurationError.missing(["WE_PLUS_BOT_TOKEN"])) { try WePlus(configuration: Configuration(["WE_PLUS_BOT_RECEIVER": "x"])) }
    }
}
