import Foundation
@testable import PushCore
import Synchronization
import TestSupport
import Testing

@Suite struct HTTPAnswerSizeAndPoolTests {
    /// Defect: a 200 with a 50 MB body was counted as a failure and the message re-sent.
    @Test func aHugeSuccessAnswerIsCutNotFailedAndSentOnce() async throws {
        let huge = #"{"code":200,"message":"success","padding":""# + String(repeating: "x", count: 50 << 20) + #""}"#
        try await FakeService.with({ _ in .raw(huge) }) { fake in
            let notifier = try Notifier(configuration: Configuration([
                "BARK_PUSH": "BarkDeviceKey0123456789", "MCP_PUSH_BARK_BASE_URL": fake.baseURL, "MCP_PUSH_TIMEOUT": "20",
            ]))
            let result = try await notifier.send(title: "Big answer", content: "accepted")
            await notifier.shutdown()
            #expect(fake.requests.count == 1, "sent once")
            // The cut body is no longer JSON: the 2xx status is what the service said, and it is trusted.
            let bark = try #require(result.results.first)
            #expect(bark.ok && bark.attempts == 1, "\(result.jsonText)")
        }
    }

    /// Defect: at most 8 concurrent requests per host made a fan-out to one host wait.
    @Test func sixteenRequestsToOneHostRunTogether() async throws {
        let inFlight = Mutex((now: 0, most: 0))
        let handler: FakeService.Handler = { _ in
            inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            try await Task.sleep(for: .milliseconds(300))
            inFlight.withLock { $0.now -= 1 }
            return .raw(#"{"ok":true}"#)
        }
        try await FakeService.with(handler) { fake in
            let http = HTTPService()
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        try await http.perform(HTTPRequestSpec(method: .GET, url: "\(fake.baseURL)/r\(index)"), timeout: .seconds(10)).status
                    }
                }
                for try await status in group { #expect(status == 200) }
            }
            await http.shutdown()
            #expect(inFlight.withLock { $0.most } == 16)
        }
    }
}
