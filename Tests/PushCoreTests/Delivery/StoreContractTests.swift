import Foundation
import Logging
import PostgresNIO
@testable import PushCore
import Testing

/// Each ``StateStore`` operation means the same on every backend: these tests run against the SQLite file
/// and, when `MCP_PUSH_TEST_DATABASE_URL` names a PostgreSQL server (scripts/test.sh starts one), against
/// a fresh database on it. Several stores on one database stand for replicas.
@Suite struct StoreContractTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    static let serverURL = ProcessInfo.processInfo.environment["MCP_PUSH_TEST_DATABASE_URL"]
    static var backends: [Backend] { serverURL == nil ? [.sqlite] : [.sqlite, .postgres] }
    static let logger = Logger(label: "store-test")

    /// `count` stores on one fresh state (replicas, for PostgreSQL; processes on one file, for SQLite).
    static func stores(_ backend: Backend, count: Int = 1) async throws -> [any StateStore] {
        switch backend {
        case .sqlite:
            let directory = try OutboxTests.temporaryDirectory()
            return (0..<count).map { _ in SQLiteStore.open(directory: directory, logger: logger) }
        case .postgres:
            let server = try #require(serverURL)
            let name = "t_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
            let admin = try #require(try DatabaseSettings(configuration: Configuration(["MCP_PUSH_DATABASE_URL": server + "?sslmode=disable"])))
            let client = PostgresClient(configuration: admin.clientConfiguration, backgroundLogger: logger)
            let running = Task { await client.run() }
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            running.cancel()
            let url = server.replacingOccurrences(of: "/postgres", with: "/\(name)") + "?sslmode=disable"
            let settings = try #require(try DatabaseSettings(configuration: Configuration(["MCP_PUSH_DATABASE_URL": url])))
            var stores: [any StateStore] = []
            for _ in 0..<count { stores.append(try await PostgresStore.connect(settings, logger: logger)) }
            return stores
        }
    }

    static func store(_ backend: Backend) async throws -> any StateStore { try await stores(backend)[0] }

    static let target = OutboxTarget(channel: "bark", fingerprint: "bark:abc", rateLimits: [])
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: backends) func theSchemaIsCurrent(_ backend: Backend) async throws {
        let store = try await Self.store(backend)
        #expect(try await store.schemaVersion() == 5)
        #expect(store.isPersistent && store.problem == nil)
    }

    @Test(arguments: backends) func anOutboxItemIsClaimedOnceSettledAndKeepsItsMessage(_ backend: Backend) async throws {
        let store = try await Self.store(backend)
        var message = Message(title: "T <&>", body: "**b** 中文", url: "https://x.example/1", level: .error, format: .markdown)
        message.silent = true
        let first = try await store.enqueue(
            channel: "bark", target: "bark:abc", message: message, reason: .retry, notBefore: Self.now, attempts: 1, lastError: "503",
            notificationID: nil, expiresAt: nil, now: Self.now)
        let second = try await store.enqueue(
            channel: "bark", target: "bark:abc", message: Message(title: "2", body: "b"), reason: .retry, notBefore: Self.now, attempts: 0,
            lastError: nil, notificationID: nil, expiresAt: nil, now: Self.now)
        #expect(try await store.hasLiveOutboxItems())
        let claimed = try await store.claimDue(owner: "a", targets: [Self.target], lease: .seconds(30), limit: 10, now: Self.now)
        #expect(claimed.map(\.id) == [first, second])
        #expect(claimed[0].message == message && claimed[0].attempts == 1 && claimed[0].lastError == "503")
        // Claimed: nobody else takes them until the lease runs out.
        #expect(try await store.claimDue(owner: "b", targets: [Self.target], lease: .seconds(30), limit: 10, now: Self.now).isEmpty)
        let later = Self.now.addingTimeInterval(31)
        #expect(try await store.claimDue(owner: "b", targets: [Self.target], lease: .seconds(30), limit: 10, now: later).count == 2)
        // The first rescheduled for later holds the second back (queue order per target).
        try await store.settle([(first, .reschedule(at: later.addingTimeInterval(60), attempts: 2, lastError: "502", reason: .retry))])
        try await store.settle([(second, .reschedule(at: later, attempts: 0, lastError: nil, reason: .retry))])
        #expect(try await store.claimDue(owner: "c", targets: [Self.target], lease: .seconds(30), limit: 10, now: later.addingTimeInterval(1)).isEmpty)
        #expect(try await store.nextDue(targets: [Self.target]) == later)
        // Another target's items are not ours.
        let other = OutboxTarget(channel: "bark", fingerprint: "bark:other")
        #expect(try await store.claimDue(owner: "c", targets: [other], lease: .seconds(30), limit: 10, now: later.addingTimeInterval(61)).isEmpty)
        #expect(try await store.makeOutboxDue(now: later.addingTimeInterval(2)) == 1)
        let due = try await store.claimDue(owner: "c", targets: [Self.target], lease: .seconds(30), limit: 10, now: later.addingTimeInterval(2))
        #expect(due.map(\.id) == [first, second] && due[0].attempts == 2)
        try await store.settle([(first, .remove)])
        let backlog = try await store.outboxBacklog()
        #expect(backlog.count == 1 && backlog.oldest == Self.now)
        #expect(try await store.outbox().map(\.id) == [second])
    }

    @Test(arguments: backends) func whatIsTooOldExpiresIntoTheHistoryAndADropIsRecorded(_ backend: Backend) async throws {
        let store = try await Self.store(backend)
        let id = try await store.enqueue(
            channel: "bark", target: "bark:abc", message: Message(title: "old", body: "b"), reason: .retry, notBefore: Self.now, attempts: 3,
            lastError: "503", notificationID: nil, expiresAt: Self.now.addingTimeInterval(60), now: Self.now)
        #expect(try await store.expire(maximumAge: .seconds(3600), now: Self.now.addingTimeInterval(30)).isEmpty)
        let expired = try await store.expire(maximumAge: .seconds(3600), now: Self.now.addingTimeInterval(61))
        #expect(expired.map(\.id) == [id])
        #expect(try await store.outbox().first?.expiredAt == Self.now.addingTimeInterval(61))
        #expect(try await !store.hasLiveOutboxItems())
        let history = try await store.recentDeliveries(limit: 5, channel: "bark")
        #expect(history.first?.error?.hasPrefix("expired: not delivered within") == true && history.first?.source == .outbox)
        let dropped = try await store.enqueue(
            channel: "bark", target: nil, message: Message(title: "drop me", body: "b"), reason: .retry, notBefore: Self.now, attempts: 1,
            lastError: "x", notificationID: nil, expiresAt: nil, now: Self.now)
        #expect(try await store.removeFromOutbox(dropped, now: Self.now.addingTimeInterval(100)))
        #expect(try await !store.removeFromOutbox(dropped, now: Self.now.addingTimeInterval(100)))
        #expect(try await store.recentDeliveries(limit: 1, channel: nil).first?.error?.hasPrefix("dropped from the outbox by the user") == true)
    }

    /// A hook's call: written ahead and recorded together; what may go now is free for any sender at
    /// once (never claimed by the process that exits), what its rate limit holds back waits its turn.
    @Test(arguments: backends) func aHandedOverCallIsRecordedAndFreeForASenderAtOnce(_ backend: Backend) async throws {
        let stores = try await Self.stores(backend, count: 2)
        let (hook, sender) = (stores[0], stores[1])
        let limited = OutboxTarget(channel: "dingtalk", fingerprint: "dingtalk:1", rateLimits: [RateLimit(1, per: .seconds(60))])
        func handOver(_ title: String) async throws -> (notificationID: Int64, result: DispatchResult) {
            try await hook.handOver(
                [Store.PlannedDelivery(target: Self.target, message: Message(title: title, body: "b")),
                 Store.PlannedDelivery(target: limited, message: Message(title: title, body: "b"))],
                title: title, runID: nil, expiresAt: Self.now.addingTimeInterval(3600), rememberingDigest: "digest-\(title)", now: Self.now
            ) { items in
                let results = ["bark", "dingtalk"].map { channel -> ChannelResult in
                    let (item, admission) = items[channel]!
                    let reason: QueueReason = admission == .send ? .handedOver : .rateLimit
                    return ChannelResult(channel: channel, outcome: .queued(item: item, until: Self.now, reason: reason, lastError: nil), attempts: 0, durationMilliseconds: 0)
                }
                let sendNow = ["bark", "dingtalk"].compactMap { items[$0]!.admission == .send ? items[$0]!.item : nil }
                return (DispatchResult(status: .queued, message: "2 queued.", results: results),
                        sendNow.map { ($0, .reschedule(at: Self.now, attempts: 0, lastError: nil, reason: .handedOver)) })
            }
        }
        let first = try await handOver("first")
        let second = try await handOver("second")
        #expect(first.result.results.map(\.channel) == ["bark", "dingtalk"] && second.notificationID != first.notificationID)

        // Another process takes every item at once, in queue order; the second DingTalk message queued
        // behind the first (its slot is reserved when the sender gets to it).
        let claimed = try await sender.claimDue(owner: "sender", targets: [Self.target, limited], lease: .seconds(30), limit: 10, now: Self.now)
        #expect(claimed.map { "\($0.message.title) \($0.channel) \($0.reason.rawValue)" }.sorted() == [
            "first bark handed_over", "first dingtalk handed_over", "second bark handed_over", "second dingtalk rate_limit",
        ])
        #expect(claimed.allSatisfy { $0.attempts == 0 && $0.nextAttemptAt == Self.now && $0.expiresAt == Self.now.addingTimeInterval(3600) })
        #expect(Set(claimed.compactMap(\.notificationID)) == [first.notificationID, second.notificationID])
        // Recorded as it was written ahead: the history and duplicate detection know it.
        let history = try await sender.recentDeliveries(limit: 10, channel: nil)
        #expect(history.count == 4 && history.allSatisfy { $0.queued && !$0.ok })
        #expect(try await sender.isDuplicate("digest-first", window: .seconds(60), now: Self.now.addingTimeInterval(1)))
    }

    /// PostgreSQL hands over in two steps: when the record fails after the write-ahead, the call is
    /// still handed over (its item claimed for a minute, then anyone's), never also sent by the caller.
    @Test(.enabled(if: serverURL != nil)) func aHandOverWhoseRecordFailsIsStillHandedOverOnce() async throws {
        let stores = try await Self.stores(.postgres, count: 2)
        let store = try #require(stores[0] as? PostgresStore)
        try await store.execute(PostgresQuery(unsafeSQL: "DROP TABLE delivery"))  // the record's table gone
        let handed = try await store.handOver(
            [Store.PlannedDelivery(target: Self.target, message: Message(title: "turn failed", body: "b"))], title: "turn failed", runID: nil,
            expiresAt: Self.now.addingTimeInterval(3600), rememberingDigest: nil, now: Self.now
        ) { items in
            let item = items["bark"]!.item
            let queued = ChannelResult(channel: "bark", outcome: .queued(item: item, until: Self.now, reason: .handedOver, lastError: nil), attempts: 0, durationMilliseconds: 0)
            return (DispatchResult(status: .queued, message: "1 queued.", results: [queued]), [(item, .reschedule(at: Self.now, attempts: 0, lastError: nil, reason: .handedOver))])
        }
        #expect(handed.result.status == .queued)
        #expect(handed.result.warnings == ["history not recorded: the store failed after the write-ahead; the message goes out within a minute"])
        let sender = stores[1]
        #expect(try await sender.claimDue(owner: "sender", targets: [Self.target], lease: .seconds(30), limit: 10, now: Self.now).isEmpty)
        let later = try await sender.claimDue(owner: "sender", targets: [Self.target], lease: .seconds(30), limit: 10, now: Self.now.addingTimeInterval(61))
        #expect(later.map(\.message.title) == ["turn failed"])
    }

    @Test(arguments: backends) func aCallIsWrittenAheadAdmittedAndRecorded(_ backend: Backend) async throws {
        let store = try await Self.store(backend)
        let limited = OutboxTarget(channel: "dingtalk", fingerprint: "dingtalk:1", rateLimits: [RateLimit(2, per: .seconds(60))])
        var admissions: [Admission] = []
        for number in 0..<3 {
            let begun = try await store.beginCall(
                [Store.PlannedDelivery(target: limited, message: Message(title: "\(number)", body: "b"))], title: "\(number)", runID: nil,
                owner: "me", lease: .seconds(30), expiresAt: Self.now.addingTimeInterval(3600), now: Self.now)
            admissions.append(try #require(begun.items["dingtalk"]).admission)
            if number == 0 {
                var result = DispatchResult(status: .success, message: "Delivered to dingtalk.")
                result.results = [ChannelResult(channel: "dingtalk", outcome: .delivered, statusCode: 200, attempts: 1, durationMilliseconds: 42)]
                _ = try await store.record(
                    result, title: "0", runID: nil, notificationID: begun.notificationID, rememberingDigest: "digest-0",
                    settling: [(try #require(begun.items["dingtalk"]).item, .remove)], at: Self.now)
            }
        }
        #expect(admissions[0] == .send && admissions[1] == .send)
        guard case .wait(let until, let limit) = admissions[2] else {
            Issue.record("the third of 2 a minute was not held back: \(admissions[2])")
            return
        }
        #expect(limit == RateLimit(2, per: .seconds(60)) && until > Self.now)
        #expect(try await store.isDuplicate("digest-0", window: .seconds(60), now: Self.now.addingTimeInterval(59)))
        #expect(try await !store.isDuplicate("digest-0", window: .seconds(60), now: Self.now.addingTimeInterval(61)))
        let recorded = try await store.recentDeliveries(limit: 10, channel: "dingtalk")
        #expect(recorded.count == 1 && recorded[0].title == "0" && recorded[0].ok && recorded[0].durationMilliseconds == 42)
        #expect(try await store.activity(channel: "dingtalk").lastSuccess == Self.now)
        #expect(try await store.reserveSlot(channel: "wecom", limits: [RateLimit(1, per: .seconds(1))], now: Self.now) == .send)
        #expect(try await store.reserveSlot(channel: "wecom", limits: [RateLimit(1, per: .seconds(1))], now: Self.now) != .send)
    }

    @Test(arguments: backends) func aRunRemembersItsStartProgressAndMessages(_ backend: Backend) async throws {
        let store = try await Self.store(backend)
        let start = RunEvent(runID: "r", kind: .start, message: "go", timestamp: Self.now)
        #expect(try await store.record(start) == nil)
        _ = try await store.record(RunEvent(runID: "r", kind: .update, message: "half", data: ["progress": .double(0.5)], timestamp: Self.now.addingTimeInterval(5)))
        let before = try await store.record(RunEvent(runID: "r", kind: .end, message: "done", timestamp: Self.now.addingTimeInterval(10)))
        #expect(before?.startedAt == Self.now && before?.lastProgress == 0.5 && before?.lastEvent == "update")
        let found = try #require(try await store.run("r"))
        #expect(found.run.outcome == "end" && found.run.finishedAt == Self.now.addingTimeInterval(10))
        #expect(found.events.map(\.kind) == [.start, .update, .end] && found.events[1].data == #"{"progress":0.5}"#)
        #expect(try await store.runs(limit: 5).map(\.runID) == ["r"])
        try await store.rememberRunMessages("r", ["telegram:1": "4711"], now: Self.now)
        try await store.rememberRunMessages("r", ["telegram:1": "4712", "ntfy:1": "abc"], now: Self.now)
        #expect(try await store.runMessages("r") == ["telegram:1": "4712", "ntfy:1": "abc"])
    }

    @Test(arguments: backends) func aQuestionIsDecidedOnceByTheFirstAnswer(_ backend: Backend) async throws {
        let store = try await Self.store(backend)
        var record = ApprovalRecord(
            id: "q1", kind: "permission", title: "Run rm?", detail: "rm -rf build", options: ["Allow", "Deny"], createdAt: Self.now,
            expiresAt: Self.now.addingTimeInterval(60))
        record.waiterPID = getpid()
        try await store.createApproval(record, tokens: [("page", .page), ("allow", .answer(0)), ("deny", .answer(1))])
        #expect(try await store.pendingApprovals(now: Self.now) == 1)
        #expect(try await store.approval(tokenDigest: "page")?.purpose == .page)
        #expect(try await store.answer(tokenDigest: "allow", page: "not-the-page", by: "web", via: "web", now: Self.now) == .unknown)
        #expect(try await store.answer(tokenDigest: "forged", page: nil, by: "x", via: "telegram", now: Self.now) == .unknown)
        guard case .decided(let decided) = try await store.answer(tokenDigest: "deny", page: nil, by: "@ada", via: "telegram", now: Self.now) else {
            Issue.record("not decided")
            return
        }
        #expect(decided.answerLabel == "Deny" && decided.answeredBy == "@ada")
        guard case .alreadyClosed(let closed) = try await store.answer(tokenDigest: "allow", page: nil, by: "b", via: "ntfy", now: Self.now) else {
            Issue.record("a second answer changed something")
            return
        }
        #expect(closed.answerLabel == "Deny")
        #expect(try await store.closeApproval(id: "q1", as: .withdrawn, now: Self.now)?.state == .answered)
        #expect(try await store.pendingApprovals(now: Self.now) == 0)
        #expect(try await store.recentApprovals(limit: 5).map(\.id) == ["q1"])
        // Past its time, an answer only closes it.
        let late = ApprovalRecord(
            id: "q2", kind: "question", title: "?", detail: "d", options: ["Yes"], createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(1))
        try await store.createApproval(late, tokens: [("yes", .answer(0))])
        guard case .alreadyClosed(let expired) = try await store.answer(tokenDigest: "yes", page: nil, by: "a", via: "web", now: Self.now.addingTimeInterval(2)) else {
            Issue.record("a late answer counted")
            return
        }
        #expect(expired.state == .expired)
    }

    /// The approvals' key: one for every replica of a networked state (the SQLite file keeps it beside itself).
    @Test(arguments: backends) func replicasShareOneKey(_ backend: Backend) async throws {
        let stores = try await Self.stores(backend, count: 2)
        let first = try await stores[0].sharedKey("approvals.key")
        let second = try await stores[1].sharedKey("approvals.key")
        #expect(first == second)
        if backend == .postgres {
            #expect(first?.count == 32 && Set(first ?? []).count > 8)
            #expect(try await stores[0].sharedKey("other") != first)
        }
    }

    @Test(arguments: backends) func aLeaseHasOneHolderAtATime(_ backend: Backend) async throws {
        let store = try await Self.store(backend)
        #expect(try await store.takeLease("poller", holder: "a", for: .seconds(10), now: Self.now))
        #expect(try await !store.takeLease("poller", holder: "b", for: .seconds(10), now: Self.now.addingTimeInterval(5)))
        #expect(try await store.takeLease("poller", holder: "a", for: .seconds(10), now: Self.now.addingTimeInterval(5)))
        try await store.setLeaseValue("poller", "42")
        #expect(try await store.takeLease("poller", holder: "b", for: .seconds(10), now: Self.now.addingTimeInterval(16)))
        #expect(try await store.leaseValue("poller") == "42")
        try await store.releaseLease("poller", holder: "b")
        #expect(try await store.takeLease("poller", holder: "c", for: .seconds(10), now: Self.now.addingTimeInterval(17)))
    }

    /// Replicas racing for the same items and the same rate limit: each item is claimed by one, and
    /// a limit of 5 a minute grants 5 slots in all. (One target's items go one claim at a time, in
    /// order: 30 targets here, so that all can be claimed at once.)
    @Test(arguments: backends) func replicasRacingShareTheOutboxAndTheLimits(_ backend: Backend) async throws {
        let stores = try await Self.stores(backend, count: 3)
        let targets = (0..<30).map { OutboxTarget(channel: "bark", fingerprint: "bark:\($0)") }
        for number in 0..<30 {
            _ = try await stores[0].enqueue(
                channel: "bark", target: targets[number].fingerprint, message: Message(title: "\(number)", body: "b"), reason: .retry, notBefore: Self.now,
                attempts: 0, lastError: nil, notificationID: nil, expiresAt: nil, now: Self.now)
        }
        let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (index, store) in stores.enumerated() {
                group.addTask {
                    var mine: [Int64] = []
                    for _ in 0..<10 {
                        let items = try await store.claimDue(owner: "r\(index)", targets: targets, lease: .seconds(60), limit: 4, now: Self.now)
                        mine += items.map(\.id)
                    }
                    return mine
                }
            }
            var all: [Int64] = []
            for try await claimed in group { all += claimed }
            return all
        }
        #expect(claims.count == 30 && Set(claims).count == 30, "each of 30 items claimed exactly once, got \(claims.count)")
        let limit = [RateLimit(5, per: .seconds(60))]
        let granted = try await withThrowingTaskGroup(of: Int.self) { group in
            for store in stores {
                group.addTask {
                    var sent = 0
                    for _ in 0..<10 where try await store.reserveSlot(channel: "dingtalk", limits: limit, now: Self.now) == .send { sent += 1 }
                    return sent
                }
            }
            var total = 0
            for try await count in group { total += count }
            return total
        }
        #expect(granted == 5)
    }
}
