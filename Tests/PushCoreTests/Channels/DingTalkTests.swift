import Crypto
import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct DingTalkTests {
    static let token = "5f2a0c0ffee1234567890abcdef"
    static let secret = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"

    /// DingTalk's /robot/send: checks access_token, then (for signed robots) the timestamp
    /// window and the HMAC signature, recomputed here from the decoded query.
    static func service(signed: Bool) -> FakeService.Handler {
        { request in
            guard request.method == "POST", request.path == "/robot/send" else {
                return .json(["errcode": 404, "errmsg": "not found"], status: 404)
            }
            let query = request.query
            guard query["access_token"] == token else {
                return .raw(#"{"errcode":300001,"errmsg":"token is not exist"}"#)
            }
            if signed {
                guard let timestampText = query["timestamp"], let timestamp = Double(timestampText),
                    abs(Date().timeIntervalSince1970 * 1000 - timestamp) < 3_600_000
                else {
                    return .raw(#"{"errcode":310000,"errmsg":"invalid timestamp"}"#)
                }
                let key = SymmetricKey(data: Data(secret.utf8))
                let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestampText)\n\(secret)".utf8), using: key)
                guard query["sign"] == Data(mac).base64EncodedString() else {
                    return .raw(#"{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}"#)
                }
            }
            guard request.contentType.hasPrefix("application/json"), let body = request.json else {
                return .raw(#"{"errcode":40035,"errmsg":"缺少参数 json"}"#)
            }
            switch body["msgtype"]?.string {
            case "text":
                guard let content = body["text"]?["content"]?.string, !content.isEmpty else {
                    return .raw(#"{"errcode":40035,"errmsg":"缺少参数 text"}"#)
                }
            case "link":
                // A link card needs its title, text and messageUrl.
                guard let link = body["link"], link["title"]?.string?.isEmpty == false, link["text"]?.string?.isEmpty == false,
                    link["messageUrl"]?.string?.hasPrefix("http") == true
                else {
                    return .raw(#"{"errcode":40035,"errmsg":"缺少参数 link"}"#)
                }
            case "markdown":
                guard let markdown = body["markdown"], markdown["title"]?.string?.isEmpty == false, markdown["text"]?.string?.isEmpty == false else {
                    return .raw(#"{"errcode":40035,"errmsg":"缺少参数 markdown"}"#)
                }
            case "actionCard":
                guard let card = body["actionCard"], card["title"]?.string?.isEmpty == false, card["text"]?.string?.isEmpty == false,
                    card["singleTitle"]?.string?.isEmpty == false, card["singleURL"]?.string?.hasPrefix("http") == true
                else {
                    return .raw(#"{"errcode":40035,"errmsg":"缺少参数 actionCard"}"#)
                }
            default:
                return .raw(#"{"errcode":40035,"errmsg":"缺少参数 msgtype"}"#)
            }
            return .raw(#"{"errcode":0,"errmsg":"ok"}"#)
        }
    }

    @Test func signedRequestIsAccepted() async throws {
        try await FakeService.with(Self.service(signed: true)) { fake in
            let channel = try makeChannel(DingTalk.self, [
                "DD_BOT_TOKEN": Self.token, "DD_BOT_SECRET": Self.secret, "MCP_PUSH_DINGTALK_BASE_URL": fake.baseURL,
            ])
            // Several sends: a signature containing '+' or '/' only verifies when strictly percent-encoded.
            for _ in 0..<5 {
                let delivery = try await deliver(channel)
                #expect(delivery == .delivered(status: 200))
            }
            let content = fake.lastRequest?.json?["text"]?["content"]?.string
            #expect(content == "Build finished\n\nAll 42 tests passed.\nSecond line & more")
        }
    }

    @Test func signatureMatchesDingTalksAlgorithm() {
        // base64(HMAC-SHA256(key: secret, "timestamp\nsecret")) for a fixed timestamp.
        let sign = DingTalk.signature(secret: "SECabc", timestampMilliseconds: 1_700_000_000_000)
        let key = SymmetricKey(data: Data("SECabc".utf8))
        let expected = Data(HMAC<SHA256>.authenticationCode(for: Data("1700000000000\nSECabc".utf8), using: key)).base64EncodedString()
        #expect(sign == expected)
        #expect(PercentEncoding.encode("a+b/c=") == "a%2Bb%2Fc%3D")
    }

    @Test func wrongSecretReportsSignMismatch() async throws {
        try await FakeService.with(Self.service(signed: true)) { fake in
            let channel = try makeChannel(DingTalk.self, [
                "DD_BOT_TOKEN": Self.token, "DD_BOT_SECRET": "SECwrongwrongwrong", "MCP_PUSH_DINGTALK_BASE_URL": fake.baseURL,
            ])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.statusCode == 200)
            #expect(delivery.error?.contains("errcode 310000: sign not match") == true)
            #expect(delivery.error?.contains("DD_BOT_SECRET") == true)
        }
    }

    @Test func unknownTokenIsRejected() async throws {
        try await FakeService.with(Self.service(signed: false)) { fake in
            let channel = try makeChannel(DingTalk.self, ["DD_BOT_TOKEN": "nope-nope-nope", "MCP_PUSH_DINGTALK_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(delivery.error?.hasPrefix("errcode 300001: token is not exist") == true)
        }
    }

    @Test func unsignedRobotNeedsOnlyTheToken() async throws {
        try await FakeService.with(Self.service(signed: false)) { fake in
            let channel = try makeChannel(DingTalk.self, ["DD_BOT_TOKEN": Self.token, "MCP_PUSH_DINGTALK_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel).ok)
            #expect(fake.lastRequest?.query["sign"] == nil)
            #expect(channel.summary.contains("unsigned"))
        }
    }

    @Test func secretWithoutTokenIsMisconfigured() {
        #expect(throws: ConfigurationError.missing(["DD_BOT_TOKEN"])) {
            try DingTalk(configuration: Configuration(["DD_BOT_SECRET": Self.secret]))
        }
    }

    @Test func rateLimitIsTransient() async throws {
        try await FakeService.with({ _ in .raw(#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#) }) { fake in
            let channel = try makeChannel(DingTalk.self, ["DD_BOT_TOKEN": Self.token, "MCP_PUSH_DINGTALK_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.isTransient)
        }
    }
}
