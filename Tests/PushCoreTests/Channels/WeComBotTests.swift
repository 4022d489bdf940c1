import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct WeComBotTests {
    static let key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    static let invalidKey =
        #"{"errcode":93000,"errmsg":"invalid webhook url, hint: [1732406400375183125513089], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}"#

    /// WeCom's /cgi-bin/webhook/send: the key in the query, then the text message.
    static let service: FakeService.Handler = { request in
        guard request.method == "POST", request.path == "/cgi-bin/webhook/send" else {
            return .raw(#"{"errcode":404,"errmsg":"not found"}"#, status: 404)
        }
        guard request.query["key"] == key else { return .raw(invalidKey) }
        // Text up to 2048 bytes, markdown up to 4096.
        guard let body = request.json, let type = body["msgtype"]?.string, type == "text" || type == "markdown",
            let content = body[type]?["content"]?.string, !content.isEmpty, content.utf8.count <= (type == "text" ? 2048 : 4096)
        else {
            return .raw(#"{"errcode":40008,"errmsg":"invalid message type, hint: [1732406400375183125513090], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=40008"}"#)
        }
        return .raw(#"{"errcode":0,"errmsg":"ok"}"#)
    }

    @Test func deliversText() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(WeComBot.self, ["QYWX_KEY": Self.key, "MCP_PUSH_WECOM_BOT_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel) == .delivered(status: 200))
            #expect(fake.lastRequest?.json?["text"]?["content"]?.string == "Build finished\n\nAll 42 tests passed.\nSecond line & more")
        }
    }

    @Test func invalidKeyIsReportedWithHint() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(WeComBot.self, ["QYWX_KEY": "not-the-key", "MCP_PUSH_WECOM_BOT_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.error?.hasPrefix("errcode 93000: invalid webhook url") == true)
            #expect(delivery.error?.contains("QYWX_KEY") == true)
        }
    }

    @Test func pastedWebhookURLIsReducedToItsKey() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(WeComBot.self, [
                "QYWX_KEY": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=\(Self.key)",
                "MCP_PUSH_WECOM_BOT_BASE_URL": fake.baseURL,
            ])
            #expect(channel.key == Self.key)
            #expect(try await deliver(channel).ok)
        }
        #expect(throws: ConfigurationError.self) {
            try WeComBot(configuration: Configuration(["QYWX_KEY": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"]))
        }
    }

    @Test func originWinsOverBaseURL() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(WeComBot.self, [
                "QYWX_KEY": Self.key, "QYWX_ORIGIN": fake.baseURL + "/", "MCP_PUSH_WECOM_BOT_BASE_URL": "http://127.0.0.1:9",
            ])
            #expect(try await deliver(channel).ok)
            #expect(channel.summary.contains(fake.baseURL))
        }
        let direct = try makeChannel(WeComBot.self, ["QYWX_KEY": Self.key])
        #expect(direct.origin == "https://qyapi.weixin.qq.com")
    }

    @Test func rateLimitIsTransient() async throws {
        let limited = #"{"errcode":45009,"errmsg":"api freq out of limit, hint: [1732406400375183125513091], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=45009"}"#
        try await FakeService.with({ _ in .raw(limited) }) { fake in
            let channel = try makeChannel(WeComBot.self, ["QYWX_KEY": Self.key, "MCP_PUSH_WECOM_BOT_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.isTransient)
            #expect(delivery.error?.hasPrefix("errcode 45009: api freq out of limit") == true)
        }
    }

    @Test func sharedOriginAloneConfiguresNothing() throws {
        #expect(try WeComBot(configuration: Configuration(["QYWX_ORIGIN": "https://proxy.example.com"])) == nil)
        #expect(throws: ConfigurationError.self) {
            try WeComBot(configuration: Configuration(["QYWX_KEY": Self.key, "QYWX_ORIGIN": "proxy.example.com"]))
        }
    }
}
