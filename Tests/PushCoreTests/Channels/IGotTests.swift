import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct IGotTests {
    static let key = "5f3e2d1c0b9a8f7e6d5c4b3a"

    /// iGot: POST /{key} with form title and content; `ret` 0 on success.
    static let service: FakeService.Handler = { request in
        guard request.method == "POST", request.path == "/\(key)" else {
            return .raw(#"{"ret":201,"data":{},"errMsg":"推送key不存在"}"#)
        }
        guard request.form["title"]?.isEmpty == false, request.form["content"] != nil else {
            return .raw(#"{"ret":202,"data":{},"errMsg":"标题不能为空"}"#)
        }
        return .raw(#"{"ret":0,"data":{"id":"61cd2f0f8b0e4b0f2c9e6a71"},"errMsg":"ok"}"#)
    }

    @Test func deliversTitleAndContent() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(IGot.self, ["IGOT_PUSH_KEY": Self.key, "MCP_PUSH_IGOT_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel).ok)
            #expect(fake.lastRequest?.form["title"] == "Build finished")
            #expect(fake.lastRequest?.form["content"] == "All 42 tests passed.\nSecond line & more")
        }
    }

    @Test func unknownKeyIsReported() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(IGot.self, ["IGOT_PUSH_KEY": "aaaaaaaaaaaaaaaaaaaaaaaa", "MCP_PUSH_IGOT_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel).error == "ret 201: 推送key不存在 (check IGOT_PUSH_KEY)")
        }
    }

    @Test func configuration() throws {
        #expect(try IGot(configuration: Configuration([:])) == nil)
        #expect(throws: ConfigurationError.self) { try IGot(configuration: Configuration(["IGOT_PUSH_KEY": "abc/../x"])) }
        #expect(try makeChannel(IGot.self, ["IGOT_PUSH_KEY": Self.key]).endpoint == "https://push.hellyw.com/\(Self.key)")
    }
}
