import Foundation
import Logging
@testable import PushCore
import Testing

@Suite struct PruneTests {
    @Test func historyOlderThanTheRetentionGoesAtMostOncePerInterval() async throws {
        let store = SQLiteStore.open(directory: try OutboxTests.temporaryDirectory(), logger: Logger(label: "test"))
        let now = Date()
        let old = now.addingTimeInterval(-40 * 86_400)
        let result = DispatchResult(status: .success, message: "Delivered to bark.", results: [
            ChannelResult(channel: "bark", outcome: .delivered, statusCode: 200, attempts: 1, durationMilliseconds: 5),
        ])
        try await store.record(result, title: "old", at: old)
        try await store.record(result, title: "new", at: now)
        let expired = try store.enqueue(
            channel: "bark", message: Message(title: "gone", body: "b"), reason: .retry, notBefore: old, attempts: 1, lastError: nil,
            expiresAt: old, now: old)
        #expect(try store.expire(maximumAge: .seconds(60), now: now.addingTimeInterval(-35 * 86_400)).map(\.id) == [expired])

        try store.prune(retentionDays: 30, now: now, interval: 3600)
        #expect(try store.recentDeliveries(limit: 10).map(\.title) == ["new"])
        #expect(try store.outbox().isEmpty, "an item expired before the retention window leaves with the history")

        try await store.record(result, title: "old again", at: old)
        try store.prune(retentionDays: 30, now: now.addingTimeInterval(60), interval: 3600)
        #expect(try store.recentDeliveries(limit: 10).count == 2, "pruned a minute ago: not again yet")
        try store.prune(retentionDays: 30, now: now.addingTimeInterval(3700), interval: 3600)
        #expect(try store.recentDeliveries(limit: 10).map(\.title) == ["new"])
    }
}
