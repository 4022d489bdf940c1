import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct PushMeTests {
    static let key = "pushme-key-0123456789abcdef"

    /// PushMe: POST / with push_key, title, content; answers the text `success`, or a reason.
    static let service: FakeService.Handler = { request in
        guard request.method == "POST", request.path == "/" else { return .text("Not Found", status: 404) }
        guard request.form["push_key"] == key else { return .text("push_key error") }
        guard request.form["title"]?.isEmpty == false else { return .text("title and content cannot be empty at the same time") }
        return .text("success")
    }

    @Test func deliversWhenTheAnswerIsSuccess() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(PushMe.self, ["PUSHME_KEY": Self.key, "MCP_PUSH_PUSHME_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel) == .delivered(status: 200))
            #expect(fake.lastRequest?.form["content"] == "All 42 tests passed.\nSecond line & more")
            #expect(fake.lastRequest?.form["type"] == "text")
        }
    }

    @Test func anyOtherAnswerIsAFailure() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(PushMe.self, ["PUSHME_KEY": "wrong-key-000000", "PUSHME_URL": fake.baseURL + "/"])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.error == "PushMe refused: push_key error (check PUSHME_KEY)")
        }
    }

    @Test func selfHostedURLWinsOverTheBaseURL() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(PushMe.self, [
                "PUSHME_KEY": Self.key, "PUSHME_URL": fake.baseURL + "/", "MCP_PUSH_PUSHME_BASE_URL": "http://127.0.0.1:9",
            ])
            #expect(try await deliver(channel).ok)
        }
        #expect(throws: ConfigurationError.missing(["PUSHME_KEY"])) { try PushMe(configuration: Configuration(["PUSHME_URL": "http://127.0.0.1:3010"])) }
        #expect(try makeChannel(PushMe.self, ["PUSHME_KEY": Self.key]).endpoint == "https://push.i-i.me/")
    }
}
