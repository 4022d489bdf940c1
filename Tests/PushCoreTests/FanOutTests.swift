import Foundation
import Logging
@testable import PushCore
import TestSupport
import Testing

/// Every channel at once in one call, each against its own fake (SMTP against a real server).
@Suite(.enabled(if: SMTPTestServer.python != nil, "needs MCP_PUSH_TEST_PYTHON for the SMTP server (scripts/test.sh sets it)"))
struct FanOutTests {
    /// Each HTTP channel: its variables for a fake at `base`, and the service's success answer.
    static let channels: [(id: String, variables: @Sendable (String) -> [String: String], success: @Sendable (RecordedRequest) -> FakeResponse)] = [
        ("bark", { ["BARK_PUSH": "FanOutDeviceKey01", "MCP_PUSH_BARK_BASE_URL": $0] }, { _ in .raw(#"{"code":200,"message":"success","timestamp":1732406400}"#) }),
        ("dingtalk", { ["DD_BOT_TOKEN": "fan-out-ding-token-0123", "DD_BOT_SECRET": "SECfanout0123456789", "MCP_PUSH_DINGTALK_BASE_URL": $0] }, { _ in .raw(#"{"errcode":0,"errmsg":"ok"}"#) }),
        ("feishu", { ["FSKEY": "fan-out-feishu-hook", "MCP_PUSH_FEISHU_BASE_URL": $0] }, { _ in .raw(#"{"code":0,"msg":"success","data":{}}"#) }),
        ("telegram", { ["TG_BOT_TOKEN": "123456:fanOutTelegramToken", "TG_USER_ID": "42", "MCP_PUSH_TELEGRAM_BASE_URL": $0] },
         { _ in .raw(#"{"ok":true,"result":{"message_id":1,"chat":{"id":42,"type":"private"},"date":1732406400,"text":"x"}}"#) }),
        ("wecom_bot", { ["QYWX_KEY": "fan-out-wecom-bot-key", "MCP_PUSH_WECOM_BOT_BASE_URL": $0] }, { _ in .raw(#"{"errcode":0,"errmsg":"ok"}"#) }),
        ("wecom_app", { ["QYWX_AM": "wwfanout,fan-out-corp-secret,@all,1000002", "MCP_PUSH_WECOM_APP_BASE_URL": $0] }, { request in
            request.path.hasSuffix("/gettoken")
                ? .raw(#"{"errcode":0,"errmsg":"ok","access_token":"fan-out-access-token","expires_in":7200}"#)
                : .raw(#"{"errcode":0,"errmsg":"ok","invaliduser":"","msgid":"m"}"#)
        }),
        ("gotify", { ["GOTIFY_URL": $0, "GOTIFY_TOKEN": "AfanOutGotify1"] },
         { _ in .raw(#"{"id":1,"appid":1,"message":"m","title":"t","priority":5,"date":"2026-11-24T09:00:00Z"}"#) }),
        ("ntfy", { ["NTFY_TOPIC": "fan-out-topic", "NTFY_URL": $0] }, { _ in .raw(#"{"id":"sPs7Bmw7Jd6","time":1732406400,"event":"message","topic":"fan-out-topic","message":"m"}"#) }),
        ("pushdeer", { ["DEER_KEY": "PDU1TfanOutKey", "DEER_URL": $0] }, { _ in .raw(#"{"code":0,"content":{"result":["{\"counts\":1,\"logs\":[],\"success\":\"ok\"}"]}}"#) }),
        ("pushplus", { ["PUSH_PLUS_TOKEN": "fanoutpushplustoken01", "MCP_PUSH_PUSHPLUS_BASE_URL": $0] }, { _ in .raw(#"{"code":200,"msg":"请求成功","data":"x"}"#) }),
        ("serverchan", { ["PUSH_KEY": "SCTfanOutServerChanKey", "MCP_PUSH_SERVERCHAN_BASE_URL": $0] },
         { _ in .raw(#"{"code":0,"message":"","data":{"pushid":"1","readkey":"k","error":"SUCCESS","errno":0}}"#) }),
        ("gocqhttp", { ["GOBOT_URL": $0 + "/send_private_msg", "GOBOT_QQ": "user_id=10001"] }, { _ in .raw(#"{"status":"ok","retcode":0,"data":{"message_id":1}}"#) }),
        ("chronocat", { ["CHRONOCAT_URL": $0, "CHRONOCAT_QQ": "user_id=10001;group_id=20002", "CHRONOCAT_TOKEN": "fan-out-chronocat"] }, { _ in .raw(#"{"msgId":"1"}"#) }),
        ("wxpusher", { ["WXPUSHER_APP_TOKEN": "AT_fanOutToken", "WXPUSHER_UIDS": "UID_fanout", "MCP_PUSH_WXPUSHER_BASE_URL": $0] },
         { _ in .raw(#"{"code":1000,"msg":"处理成功","data":[{"uid":"UID_fanout","code":1000,"status":"创建发送任务成功"}],"success":true}"#) }),
        ("qmsg", { ["QMSG_KEY": "fanoutqmsgkey0123", "QMSG_TYPE": "send", "MCP_PUSH_QMSG_BASE_URL": $0] }, { _ in .raw(#"{"success":true,"reason":"操作成功","code":0,"info":{}}"#) }),
        ("igot", { ["IGOT_PUSH_KEY": "fanoutigotkey0123456789a", "MCP_PUSH_IGOT_BASE_URL": $0] }, { _ in .raw(#"{"ret":0,"data":{"id":"x"},"errMsg":"ok"}"#) }),
        ("pushme", { ["PUSHME_KEY": "fan-out-pushme-key", "PUSHME_URL": $0 + "/"] }, { _ in .text("success") }),
        ("weplus", { ["WE_PLUS_BOT_TOKEN": "fan-out-weplus-token", "MCP_PUSH_WEPLUS_BASE_URL": $0] }, { _ in .raw(#"{"code":200,"msg":"请求成功","data":"x"}"#) }),
        ("aibotk", { ["AIBOTK_KEY": "fan-out-aibotk-key", "AIBOTK_TYPE": "room", "AIBOTK_NAME": "群", "MCP_PUSH_AIBOTK_BASE_URL": $0] }, { _ in .raw(#"{"code":0,"msg":"success","data":{}}"#) }),
        ("synology_chat", { ["CHAT_URL": $0 + "/webapi/entry.cgi?api=SYNO.Chat.External&method=incoming&version=2&token=", "CHAT_TOKEN": "fanOutSynologyToken"] },
         { _ in .raw(#"{"success":true}"#) }),
        ("webhook", { ["WEBHOOK_URL": $0 + "/hook", "WEBHOOK_METHOD": "POST", "WEBHOOK_BODY": "title: $title\ncontent: $content"] }, { _ in .raw(#"{"ok":true}"#) }),
    ]

    /// Starts one fake per HTTP channel (nested, so all live during `body`); `behaviour` may replace a channel's answer.
    func withFakes<T: Sendable>(
        _ behaviour: [String: FakeService.Handler] = [:], from index: Int = 0, variables: [String: String] = [:],
        _ body: @escaping @Sendable ([String: String]) async throws -> T
    ) async throws -> T {
        guard index < Self.channels.count else { return try await body(variables) }
        let channel = Self.channels[index]
        let success = channel.success
        let handler: FakeService.Handler = behaviour[channel.id] ?? { success($0) }
        return try await FakeService.with(handler) { fake in
            try await withFakes(behaviour, from: index + 1, variables: variables.merging(channel.variables(fake.baseURL)) { $1 }, body)
        }
    }

    func send(_ variables: [String: String]) async throws -> (DispatchResult, Duration) {
        var logger = Logger(label: "fan-out")
        logger.logLevel = .critical
        let notifier = try Notifier(configuration: Configuration(variables), logger: logger)
        #expect(notifier.setup.configured.count == 22, "misconfigured: \(notifier.setup.entries.filter { if case .misconfigured = $0.state { true } else { false } }.map(\.descriptor.id))")
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await notifier.send(title: "Fan-out", content: "every channel at once")
        let elapsed = clock.now - start
        await notifier.shutdown()
        return (result, elapsed)
    }

    @Test func allTwentyTwoChannelsDeliverInOneCall() async throws {
        let smtp = try await SMTPTestServer(["--tls", "none"])
        let (result, _) = try await withFakes { variables in
            try await send(variables.merging(smtp.variables(["SMTP_ALLOW_PLAINTEXT": "true"])) { $1 })
        }
        #expect(result.status == .success, "\(result.errors)")
        #expect(result.channelsCount == 22)
        #expect(Set(result.results.map(\.channel)) == Set(ChannelCatalogue.ids))
        #expect(try smtp.received().count == 1)
    }

    @Test func twoFailingAndOneHangingChannelAreNamedAndBoundTheCall() async throws {
        let smtp = try await SMTPTestServer(["--tls", "none"])
        let behaviour: [String: FakeService.Handler] = [
            "dingtalk": { _ in .raw(#"{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}"#) },
            "telegram": { _ in .raw(#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#, status: 401) },
            "gotify": { _ in
                try await Task.sleep(for: .seconds(30))
                return .raw("{}")
            },
        ]
        let (result, elapsed) = try await withFakes(behaviour) { variables in
            try await send(variables.merging(smtp.variables(["SMTP_ALLOW_PLAINTEXT": "true"])) { $1 }.merging([
                "MCP_PUSH_TIMEOUT": "2", "MCP_PUSH_RETRIES": "0",
            ]) { $1 })
        }
        #expect(result.status == .partialSuccess)
        #expect(Set(result.errors.keys) == ["dingtalk", "telegram", "gotify"])
        #expect(result.errors["dingtalk"]?.contains("sign not match") == true)
        #expect(result.errors["telegram"]?.contains("Unauthorized") == true)
        #expect(result.errors["gotify"]?.contains("timed out") == true)
        #expect(result.results.filter(\.ok).count == 19)
        #expect(elapsed >= .seconds(2) && elapsed < .milliseconds(3500), "about the 2 s timeout, took \(elapsed)")
    }
}
