import Foundation
import Logging
@testable import PushCore
import Synchronization
import TestSupport
import Testing

/// Retries inside one call, against fake services switched into failure modes.
@Suite struct RetryTests {
    static let barkKey = "BarkDeviceKey0123456789"
    static let barkSuccess = #"{"code":200,"message":"success","timestamp":1732406400}"#

    /// Answers with `failures` in turn, then with Bark's success; counts the requests.
    final class Script: Sendable {
        let failures: [FakeResponse]
        let count = Mutex(0)

        init(_ failures: [FakeResponse]) {
            self.failures = failures
        }

        var handler: FakeService.Handler {
            { _ in
                let index = self.count.withLock { count in
                    count += 1
                    return count - 1
                }
                return index < self.failures.count ? self.failures[index] : .raw(RetryTests.barkSuccess)
            }
        }
    }

    func send(_ variables: [String: String]) async throws -> (ChannelResult, Duration) {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let notifier = try Notifier(configuration: Configuration(variables), logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await notifier.send(title: "Build finished", content: "42 tests passed")
        let elapsed = clock.now - start
        await notifier.shutdown()
        return (try #require(result.results.first), elapsed)
    }

    func bark(_ baseURL: String, _ extra: [String: String] = [:]) -> [String: String] {
        ["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": baseURL].merging(extra) { $1 }
    }

    @Test func tooManyRequestsWaitsAsToldThenDelivers() async throws {
        var limited = FakeResponse.raw(#"{"code":429,"message":"too many requests"}"#, status: 429)
        limited.headers.append(("Retry-After", "1"))
        let script = Script([limited])
        try await FakeService.with(script.handler) { service in
            let (result, elapsed) = try await send(bark(service.baseURL))
            #expect(result.ok)
            #expect(result.attempts == 2)
            #expect(service.requests.count == 2)
            let gap = try #require(service.requests.last).receivedAt - service.requests[0].receivedAt
            #expect(gap >= .milliseconds(950), "Retry-After: 1 must be honoured, waited \(gap)")
            #expect(elapsed < .seconds(5))
        }
    }

    @Test func serviceUnavailableTwiceThenDelivered() async throws {
        let unavailable = FakeResponse.raw("<html><body>503 Service Temporarily Unavailable</body></html>", status: 503, contentType: "text/html")
        let script = Script([unavailable, unavailable])
        try await FakeService.with(script.handler) { service in
            let (result, _) = try await send(bark(service.baseURL))
            #expect(result.ok)
            #expect(result.attempts == 3)
            #expect(result.error == nil)
            #expect(service.requests.count == 3)
        }
    }

    @Test func retriesStopAtTheConfiguredCount() async throws {
        let unavailable = FakeResponse.raw(#"{"code":500,"message":"internal error"}"#, status: 500)
        let script = Script(Array(repeating: unavailable, count: 10))
        try await FakeService.with(script.handler) { service in
            let (result, _) = try await send(bark(service.baseURL, ["MCP_PUSH_RETRIES": "1"]))
            #expect(!result.ok)
            #expect(result.attempts == 2)
            #expect(service.requests.count == 2)
            #expect(result.error?.contains("HTTP 500") == true)
            #expect(result.error?.contains("gave up after 2 attempts") == true)
        }
    }

    @Test func refusedConnectionIsRetriedThenReported() async throws {
        // A port that was just free: nothing listens there.
        let closed = try await FakeService.with({ _ in .raw(Self.barkSuccess) }) { $0.baseURL }
        let (result, elapsed) = try await send(bark(closed, ["MCP_PUSH_DEADLINE": "10"]))
        #expect(!result.ok)
        #expect(result.attempts == 3)
        #expect(result.error?.lowercased().contains("refused") == true || result.error?.lowercased().contains("connect") == true)
        #expect(result.error?.contains("gave up after 3 attempts") == true)
        #expect(elapsed < .seconds(10))
    }

    @Test func aHangingServiceNeverHoldsTheCallPastTheDeadline() async throws {
        let hang: FakeService.Handler = { _ in
            try await Task.sleep(for: .seconds(30))
            return .raw(Self.barkSuccess)
        }
        try await FakeService.with(hang) { service in
            let (result, elapsed) = try await send(bark(service.baseURL, ["MCP_PUSH_TIMEOUT": "1", "MCP_PUSH_DEADLINE": "2.5"]))
            #expect(!result.ok)
            // Attempt 1 times out at 1 s; jittered waits decide whether a short third
            // attempt still fits before 2.5 s, so two or three are both right.
            #expect((2...3).contains(result.attempts), "attempts: \(result.attempts)")
            #expect(result.error?.contains("timed out") == true)
            #expect(elapsed < .seconds(4), "the 2.5 s deadline bounds the call (the service hangs 30 s), took \(elapsed)")
        }
    }

    @Test func permanentErrorIsTriedOnceAndSaysSo() async throws {
        let badToken: FakeService.Handler = { _ in .raw(#"{"errcode":300001,"errmsg":"token is not exist"}"#) }
        try await FakeService.with(badToken) { service in
            let (result, _) = try await send([
                "DD_BOT_TOKEN": "DingAccessToken0123456789abcdef", "MCP_PUSH_DINGTALK_BASE_URL": service.baseURL,
            ])
            #expect(!result.ok)
            #expect(result.attempts == 1)
            #expect(service.requests.count == 1)
            #expect(result.error?.contains("300001") == true)
            #expect(result.error?.contains("token is not exist") == true)
            #expect(result.error?.contains("permanent error, not retried") == true)
        }
    }

    @Test func telegramsRetryAfterIsHonoured() async throws {
        let token = "123456789:AAH0telegram_bot_token_for_tests"
        let script = Script([
            .raw(#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#, status: 429)
        ])
        let telegram: FakeService.Handler = { request in
            let answer = try await script.handler(request)
            return answer.status == 200
                ? .raw(#"{"ok":true,"result":{"message_id":7,"chat":{"id":42,"type":"private"},"date":1732406400,"text":"t"}}"#)
                : answer
        }
        try await FakeService.with(telegram) { service in
            let (result, _) = try await send(["TG_BOT_TOKEN": token, "TG_USER_ID": "42", "MCP_PUSH_TELEGRAM_BASE_URL": service.baseURL])
            #expect(result.ok)
            #expect(result.attempts == 2)
            let gap = try #require(service.requests.last).receivedAt - service.requests[0].receivedAt
            #expect(gap >= .milliseconds(950))
        }
    }
}
