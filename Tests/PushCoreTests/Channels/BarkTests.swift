import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct BarkTests {
    static let key = "k3yD3v1c3AbCdEf0123"

    /// bark-server's POST /push: JSON with device_key; unknown keys get 400 with its message.
    static let service: FakeService.Handler = { request in
        guard request.method == "POST", request.path.hasSuffix("/push") else {
            return .json(["code": 404, "message": "not found"], status: 404)
        }
        guard request.contentType.hasPrefix("application/json"), let body = request.json else {
            return .json(["code": 400, "message": "request bind failed"], status: 400)
        }
        guard body["device_key"]?.string == key else {
            return .raw(#"{"code":400,"message":"failed to get device token: failed to get [wrong] device token from database","timestamp":1732406400}"#, status: 400)
        }
        return .raw(#"{"code":200,"message":"success","timestamp":1732406400}"#)
    }

    @Test func deliversWithDeviceKeyAndOptions() async throws {
        try await FakeService.with(Self.service) { fake in
            let bark = try makeChannel(Bark.self, [
                "BARK_PUSH": Self.key, "MCP_PUSH_BARK_BASE_URL": fake.baseURL,
                "BARK_GROUP": "agents", "BARK_LEVEL": "timeSensitive", "BARK_SOUND": "minuet",
            ])
            let delivery = try await deliver(bark)
            #expect(delivery == .delivered(status: 200))
            let body = try #require(fake.lastRequest?.json)
            #expect(fake.lastRequest?.path == "/push")
            #expect(body["title"]?.string == "Build finished")
            #expect(body["body"]?.string == "All 42 tests passed.\nSecond line & more")
            #expect(body["group"]?.string == "agents")
            #expect(body["level"]?.string == "timeSensitive")
            #expect(body["sound"]?.string == "minuet")
            #expect(body["icon"] == nil, "unset options are not sent")
        }
    }

    @Test func fullURLNamesServerAndKeyAndWinsOverBaseURL() async throws {
        try await FakeService.with(Self.service) { fake in
            let bark = try makeChannel(Bark.self, [
                "BARK_PUSH": "\(fake.baseURL)/selfhosted/\(Self.key)/",
                "MCP_PUSH_BARK_BASE_URL": "http://127.0.0.1:9",
            ])
            let delivery = try await deliver(bark)
            #expect(delivery.ok)
            #expect(fake.lastRequest?.path == "/selfhosted/push")
            #expect(fake.lastRequest?.json?["device_key"]?.string == Self.key)
        }
    }

    @Test func unknownKeyIsReportedWithTheServersReason() async throws {
        try await FakeService.with(Self.service) { fake in
            let bark = try makeChannel(Bark.self, ["BARK_PUSH": "wrongkey", "MCP_PUSH_BARK_BASE_URL": fake.baseURL])
            let delivery = try await deliver(bark)
            #expect(!delivery.ok)
            #expect(delivery.statusCode == 400)
            #expect(delivery.error?.contains("failed to get device token") == true)
            #expect(delivery.isTransient == false)
        }
    }

    @Test func rejectsBadLevel() {
        #expect(throws: ConfigurationError.self) {
            try Bark(configuration: Configuration(["BARK_PUSH": "abc", "BARK_LEVEL": "loud"]))
        }
    }

    /// APNs refuses payloads over 4 KB: a 10 000-byte CJK body and a long title arrive cut to
    /// fit, at a character boundary, and the result says it was cut.
    @Test func titleAndBodyTogetherStayUnderApplesFourKilobytes() async throws {
        try await FakeService.with(Self.service) { fake in
            let notifier = try Notifier(configuration: Configuration(["BARK_PUSH": Self.key, "MCP_PUSH_BARK_BASE_URL": fake.baseURL]))
            let title = String(repeating: "构建完成", count: 20)
            let result: DispatchResult, titleOnly: DispatchResult
            do {
                result = try await notifier.send(title: title, content: String(repeating: "测", count: 3334))
                // A title too long on its own is cut and sent without a body.
                titleOnly = try await notifier.send(title: String(repeating: "长", count: 1500), content: "x")
            } catch {
                await notifier.shutdown()
                throw error
            }
            await notifier.shutdown()
            #expect(result.results.first?.ok == true && result.results.first?.truncated == true, "\(result.jsonText)")
            #expect(titleOnly.results.first?.ok == true && titleOnly.results.first?.truncated == true, "\(titleOnly.jsonText)")
            #expect(fake.requests.count == 2)
            for request in fake.requests {
                #expect(request.body.count < 4096, "the whole JSON payload is \(request.body.count) bytes")
                let json = try #require(request.json)
                let text = (json["title"]?.string ?? "") + (json["body"]?.string ?? "")
                #expect(text.utf8.count <= 3000)
                #expect(text.hasSuffix(Message.truncationMarker))
            }
            #expect(fake.requests[0].json?["title"]?.string == title, "the title is kept whole")
            #expect(fake.requests[1].json?["title"] == nil, "a title-only message is sent once, as the body")
        }
    }
}
