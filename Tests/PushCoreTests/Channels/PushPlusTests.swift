import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct PushPlusTests {
    static let token = "8f2c1e0b9a7d4c3b8e6f5a4d3c2b1a09"

    /// PushPlus's POST /send: JSON only, the token checked first; failures are HTTP 200
    /// with the service's code and Chinese message.
    static let service: FakeService.Handler = { request in
        guard request.method == "POST", request.path == "/send" else {
            return .raw(#"{"code":404,"msg":"请求地址不存在","data":null}"#, status: 404)
        }
        guard request.contentType.hasPrefix("application/json"), let body = request.json else {
            return .raw(#"{"code":600,"msg":"数据异常","data":null}"#)
        }
        guard body["token"]?.string == token else {
            return .raw(#"{"code":903,"msg":"无效的用户token","data":null}"#)
        }
        guard let content = body["content"]?.string, !content.isEmpty else {
            return .raw(#"{"code":999,"msg":"内容不能为空","data":null}"#)
        }
        return .raw(#"{"code":200,"msg":"请求成功","data":"b1e2c3d4e5f60718293a4b5c6d7e8f90","count":null}"#)
    }

    @Test func deliversPlainTextThatKeepsItsLineBreaks() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(PushPlus.self, ["PUSH_PLUS_TOKEN": Self.token, "MCP_PUSH_PUSHPLUS_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel) == .delivered(status: 200))
            let body = try #require(fake.lastRequest?.json)
            #expect(body["template"]?.string == "txt")
            #expect(body["title"]?.string == "Build finished")
            #expect(body["content"]?.string == "All 42 tests passed.\nSecond line & more")
            for unset in ["topic", "channel", "webhook", "callbackUrl", "to"] {
                #expect(body[unset] == nil, "\(unset) is omitted when not configured")
            }
        }
    }

    @Test func optionalVariablesMapToTheServicesFields() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(PushPlus.self, [
                "PUSH_PLUS_TOKEN": Self.token, "MCP_PUSH_PUSHPLUS_BASE_URL": fake.baseURL,
                "PUSH_PLUS_USER": "ops-group", "PUSH_PLUS_TEMPLATE": "html", "PUSH_PLUS_CHANNEL": "webhook",
                "PUSH_PLUS_WEBHOOK": "feishu-ops", "PUSH_PLUS_CALLBACKURL": "https://example.com/pushplus/callback",
                "PUSH_PLUS_TO": "friend-token-1",
            ])
            #expect(try await deliver(channel).ok)
            let body = try #require(fake.lastRequest?.json)
            #expect(body["topic"]?.string == "ops-group")
            #expect(body["template"]?.string == "html")
            #expect(body["channel"]?.string == "webhook")
            #expect(body["webhook"]?.string == "feishu-ops")
            #expect(body["callbackUrl"]?.string == "https://example.com/pushplus/callback")
            #expect(body["to"]?.string == "friend-token-1")
            #expect(body["content"]?.string == "All 42 tests passed.<br>Second line & more", "html keeps lines with <br>")
        }
    }

    @Test func invalidTokenIsReportedWithHint() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(PushPlus.self, ["PUSH_PLUS_TOKEN": "0000wrong0000", "MCP_PUSH_PUSHPLUS_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.error?.hasPrefix("code 903: 无效的用户token (check PUSH_PLUS_TOKEN") == true)
        }
    }

    @Test func restrictedAccountSaysToStopForToday() async throws {
        try await FakeService.with({ _ in .raw(#"{"code":900,"msg":"用户账号使用受限","data":null}"#) }) { fake in
            let channel = try makeChannel(PushPlus.self, ["PUSH_PLUS_TOKEN": Self.token, "MCP_PUSH_PUSHPLUS_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(delivery.error?.hasPrefix("code 900: 用户账号使用受限") == true)
            #expect(delivery.error?.contains("stop sending") == true)
            #expect(!delivery.isTransient, "retrying would only deepen the ban")
        }
    }

    @Test func unverifiedAccountIsExplained() async throws {
        try await FakeService.with({ _ in .raw(#"{"code":905,"msg":"账户未进行实名认证，无法使用推送功能","data":null}"#) }) { fake in
            let channel = try makeChannel(PushPlus.self, ["PUSH_PLUS_TOKEN": Self.token, "MCP_PUSH_PUSHPLUS_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(delivery.error?.contains("real-name verification") == true)
        }
    }

    @Test func alwaysHTTPSByDefault() throws {
        let channel = try makeChannel(PushPlus.self, ["PUSH_PLUS_TOKEN": Self.token])
        #expect(channel.endpoint == "https://www.pushplus.plus/send")
    }

    @Test func optionsWithoutTokenAreMisconfigured() {
        #expect(throws: ConfigurationError.missing(["PUSH_PLUS_TOKEN"])) {
            try PushPlus(configuration: Configuration(["PUSH_PLUS_USER": "ops-group"]))
        }
    }
}
