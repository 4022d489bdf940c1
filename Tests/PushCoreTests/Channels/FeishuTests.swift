import Crypto
import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct FeishuTests {
    static let hookID = "2f1c8a6e-5b7d-4c3a-9e1f-0a2b3c4d5e6f"
    static let secret = "qzN8x1bY0cGd5hWkT7mRvL"

    /// Feishu's /open-apis/bot/v2/hook/{id}: unknown hooks, then (for signed bots) the
    /// timestamp window and the signature recomputed from the body, then the message shape.
    static func service(signed: Bool) -> FakeService.Handler {
        { request in
            guard request.method == "POST", request.path.hasPrefix("/open-apis/bot/v2/hook/") else {
                return .raw("404 page not found", status: 404, contentType: "text/plain")
            }
            guard request.path == "/open-apis/bot/v2/hook/\(hookID)" else {
                return .raw(#"{"code":19001,"data":{},"msg":"param invalid: incoming webhook access token invalid"}"#)
            }
            guard request.contentType.hasPrefix("application/json"), let body = request.json else {
                return .raw(#"{"code":9499,"msg":"Bad Request","data":{}}"#, status: 400)
            }
            if signed {
                guard let timestamp = body["timestamp"]?.string, let seconds = Double(timestamp),
                    abs(Date().timeIntervalSince1970 - seconds) < 3600, let sign = body["sign"]?.string
                else {
                    return .raw(#"{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}"#)
                }
                let key = SymmetricKey(data: Data("\(timestamp)\n\(secret)".utf8))
                let expected = Data(HMAC<SHA256>.authenticationCode(for: Data(), using: key)).base64EncodedString()
                guard sign == expected else {
                    return .raw(#"{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}"#)
                }
            }
            switch body["msg_type"]?.string {
            case "text":
                guard let text = body["content"]?["text"]?.string, !text.isEmpty else {
                    return .raw(#"{"code":9499,"msg":"Bad Request","data":{}}"#, status: 400)
                }
            case "interactive":
                // A card needs elements; a button's url must be http(s).
                guard let elements = body["card"]?["elements"]?.array, !elements.isEmpty else {
                    return .raw(#"{"code":11246,"msg":"create card content failed: ErrCode: 200621; ErrMsg: parse card json err","data":{}}"#)
                }
                let urls = elements.flatMap { $0["actions"]?.array ?? [] }.compactMap { $0["url"]?.string }
                guard urls.allSatisfy({ $0.hasPrefix("http") }) else {
                    return .raw(#"{"code":11246,"msg":"create card content failed: ErrCode: 200861; ErrMsg: invalid url","data":{}}"#)
                }
            default:
                return .raw(#"{"code":9499,"msg":"Bad Request","data":{}}"#, status: 400)
            }
            return .raw(#"{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}"#)
        }
    }

    @Test func signedRequestIsAccepted() async throws {
        try await FakeService.with(Self.service(signed: true)) { fake in
            let channel = try makeChannel(Feishu.self, [
                "FSKEY": Self.hookID, "FSSECRET": Self.secret, "MCP_PUSH_FEISHU_BASE_URL": fake.baseURL,
            ])
            for _ in 0..<3 {
                #expect(try await deliver(channel) == .delivered(status: 200))
            }
            let body = try #require(fake.lastRequest?.json)
            #expect(body["content"]?["text"]?.string == "Build finished\n\nAll 42 tests passed.\nSecond line & more")
            let timestamp = try #require(body["timestamp"]?.string)
            #expect(timestamp.count == 10, "seconds, not milliseconds")
        }
    }

    @Test func signatureIsFeishusAlgorithmNotDingTalks() {
        let sign = Feishu.signature(secret: "abc", timestampSeconds: 1_700_000_000)
        // Key = "timestamp\nsecret", message empty.
        let key = SymmetricKey(data: Data("1700000000\nabc".utf8))
        #expect(sign == Data(HMAC<SHA256>.authenticationCode(for: Data(), using: key)).base64EncodedString())
        // DingTalk's roles (key = secret, message = "timestamp\nsecret") give a different value.
        let dingTalkStyle = HMAC<SHA256>.authenticationCode(for: Data("1700000000\nabc".utf8), using: SymmetricKey(data: Data("abc".utf8)))
        #expect(sign != Data(dingTalkStyle).base64EncodedString())
    }

    @Test func wrongSecretReportsSignMismatch() async throws {
        try await FakeService.with(Self.service(signed: true)) { fake in
            let channel = try makeChannel(Feishu.self, [
                "FSKEY": Self.hookID, "FSSECRET": "not-the-secret", "MCP_PUSH_FEISHU_BASE_URL": fake.baseURL,
            ])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.statusCode == 200)
            #expect(delivery.error?.hasPrefix("code 19021: sign match fail") == true)
            #expect(delivery.error?.contains("FSSECRET") == true)
            #expect(!delivery.isTransient)
        }
    }

    @Test func unknownHookIsReportedWithHint() async throws {
        try await FakeService.with(Self.service(signed: false)) { fake in
            let channel = try makeChannel(Feishu.self, ["FSKEY": "0000-wrong-hook", "MCP_PUSH_FEISHU_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(delivery.error?.hasPrefix("code 19001: param invalid: incoming webhook access token invalid") == true)
            #expect(delivery.error?.contains("FSKEY") == true)
        }
    }

    @Test func unsignedBotNeedsOnlyTheKey() async throws {
        try await FakeService.with(Self.service(signed: false)) { fake in
            let channel = try makeChannel(Feishu.self, ["FSKEY": Self.hookID, "MCP_PUSH_FEISHU_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel).ok)
            #expect(fake.lastRequest?.json?["sign"] == nil)
            #expect(fake.lastRequest?.json?["timestamp"] == nil)
            #expect(channel.summary.contains("unsigned"))
            #expect(!channel.summary.contains(Self.hookID))
        }
    }

    @Test func pastedWebhookURLNamesServerAndWinsOverBaseURL() async throws {
        try await FakeService.with(Self.service(signed: false)) { fake in
            let channel = try makeChannel(Feishu.self, [
                "FSKEY": "\(fake.baseURL)/open-apis/bot/v2/hook/\(Self.hookID)",
                "MCP_PUSH_FEISHU_BASE_URL": "http://127.0.0.1:9",
            ])
            #expect(channel.secrets == [Self.hookID])
            #expect(try await deliver(channel).ok)
        }
    }

    @Test func larkOriginComesFromTheBaseURLOverride() throws {
        let channel = try makeChannel(Feishu.self, ["FSKEY": Self.hookID, "MCP_PUSH_FEISHU_BASE_URL": "https://open.larksuite.com/"])
        #expect(channel.endpoint == "https://open.larksuite.com/open-apis/bot/v2/hook/\(Self.hookID)")
        let feishu = try makeChannel(Feishu.self, ["FSKEY": Self.hookID])
        #expect(feishu.endpoint == "https://open.feishu.cn/open-apis/bot/v2/hook/\(Self.hookID)")
    }

    @Test func olderStatusCodeAnswersAreRead() async throws {
        try await FakeService.with({ _ in .raw(#"{"Extra":null,"StatusCode":0,"StatusMessage":"success"}"#) }) { fake in
            let channel = try makeChannel(Feishu.self, ["FSKEY": Self.hookID, "MCP_PUSH_FEISHU_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel).ok)
        }
    }

    @Test func rateLimitIsTransient() async throws {
        let limited = #"{"code":11232,"data":{},"msg":"frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}"#
        try await FakeService.with({ _ in .raw(limited) }) { fake in
            let channel = try makeChannel(Feishu.self, ["FSKEY": Self.hookID, "MCP_PUSH_FEISHU_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.isTransient)
            #expect(delivery.error?.hasPrefix("code 11232: frequency limited") == true)
        }
    }

    @Test func keywordMismatchIsExplained() async throws {
        try await FakeService.with({ _ in .raw(#"{"code":19024,"data":{},"msg":"Key Words Not Found"}"#) }) { fake in
            let channel = try makeChannel(Feishu.self, ["FSKEY": Self.hookID, "MCP_PUSH_FEISHU_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(delivery.error?.hasPrefix("code 19024: Key Words Not Found (the message lacks the bot's custom keyword)") == true)
        }
    }

    @Test func secretWithoutKeyIsMisconfigured() throws {
        #expect(throws: ConfigurationError.missing(["FSKEY"])) {
            try Feishu(configuration: Configuration(["FSSECRET": Self.secret]))
        }
        #expect(throws: ConfigurationError.self) {
            try Feishu(configuration: Configuration(["FSKEY": "https://open.feishu.cn/some/other/path"]))
        }
        #expect(try Feishu(configuration: Configuration([:])) == nil)
    }
}
