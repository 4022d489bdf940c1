import Foundation
import GRDB
import Logging
@testable import PushCore
import Synchronization
import TestSupport
import Testing

/// A message is delivered, or waits where a later process will deliver it, or is reported
/// expired: across processes configured differently (each Notifier here stands for one
/// mcp-push process on the same state directory), killed mid-send, or stopping mid-call.
@Suite struct NothingLostTests {
    static let barkKey = "BarkDeviceKey0123456789"
    static let otherBarkKey = "OtherBarkDevice987654321"
    static let dingToken = "DingAccessToken0123456789abcdef"

    func notifier(_ variables: [String: String], directory: String, worksOutbox: Bool = false) throws -> Notifier {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try Notifier(configuration: Configuration(variables), logger: logger, store: .directory(directory), worksOutbox: worksOutbox)
    }

    func bark(_ baseURL: String, key: String = barkKey, extra: [String: String] = [:]) -> [String: String] {
        ["BARK_PUSH": key, "MCP_PUSH_BARK_BASE_URL": baseURL, "MCP_PUSH_TIMEOUT": "1", "MCP_PUSH_DEADLINE": "1.5", "MCP_PUSH_RETRIES": "0"]
            .merging(extra) { _, new in new }
    }

    /// A hook's hand-over that the store refuses (another process holds its lock past SQLite's wait) is
    /// sent here at once: the store is tried once, not a second time for a write-ahead, which took a
    /// hook past its deadline with nothing sent and nothing kept.
    @Test func aHandOverTheStoreRefusesIsSentHereAfterOneTry() async throws {
        let directory = try OutboxTests.temporaryDirectory()
        let service = OutboxTests.SwitchableBark(up: true)
        try await FakeService.with(service.handler) { fake in
            let hook = try notifier(bark(fake.baseURL, extra: ["MCP_PUSH_TIMEOUT": "2", "MCP_PUSH_DEADLINE": "4"]), directory: directory)
            #expect(await hook.storeStatus().problem == nil)
            // Another process's connection holds the write lock, on a thread of its own, until released.
            let locker = try DatabaseQueue(path: directory + "/mcp-push.sqlite")
            let (locked, release) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
            Thread.detachNewThread {
                try? locker.writeWithoutTransaction { db in
                    try db.execute(sql: "BEGIN EXCLUSIVE")
                    locked.signal()
                    release.wait()
                    try db.execute(sql: "ROLLBACK")
                }
            }
            locked.wait()
            let clock = ContinuousClock()
            let started = clock.now
            let call = Task { try await hook.send(title: "Turn failed", content: "rate_limit", handOver: true) }
            while service.delivered.withLock({ $0.isEmpty }) && clock.now - started < .seconds(10) {
                try await Task.sleep(for: .milliseconds(10))
            }
            let deliveredAfter = clock.now - started
            release.signal()
            let result = try await call.value
            #expect(result.status == .success && service.delivered.withLock { $0 } == ["Turn failed"], "\(result)")
            // One wait for the lock (2 s), then the message goes; not a second wait for a write-ahead first.
            #expect(deliveredAfter < .seconds(3.5), "delivered after \(deliveredAfter): the store was tried twice first")
            await hook.shutdown()
        }
    }

    /// Defect: a process without the channel emptied the outbox ("no longer configured").
    @Test func aProcessLeavesItemsItCannotSendToOneThatCan() async throws {
        let directory = try OutboxTests.temporaryDirectory()
        let service = OutboxTests.SwitchableBark(up: false)
        try await FakeService.with(service.handler) { fake in
            let first = try notifier(bark(fake.baseURL), directory: directory)
            #expect(try await first.send(title: "Deploy finished", content: "v1.2.3").status == .queued)
            await first.shutdown()
            service.isUp.withLock { $0 = true }

            // Another agent's server: only DingTalk configured.
            let dingOnly = try notifier(["DD_BOT_TOKEN": Self.dingToken, "MCP_PUSH_DINGTALK_BASE_URL": fake.baseURL], directory: directory)
            #expect(try await dingOnly.flushOutbox() == OutboxPass())
            // The same channel for another device: not its message either.
            let otherDevice = try notifier(bark(fake.baseURL, key: Self.otherBarkKey), directory: directory)
            #expect(try await otherDevice.flushOutbox() == OutboxPass())
            let entries = try await otherDevice.outboxEntries()
            #expect(entries.count == 1 && entries[0].state == .waiting && !entries[0].sendableHere)
            #expect(try await dingOnly.recentDeliveries(limit: 10).allSatisfy { $0.source == .call })
            await dingOnly.shutdown()
            await otherDevice.shutdown()
            #expect(service.delivered.withLock { $0 }.isEmpty)

            let same = try notifier(bark(fake.baseURL), directory: directory)
            #expect(try await same.outboxEntries().first?.sendableHere == true)
            #expect(try await same.flushOutbox().delivered == 1)
            await same.shutdown()
            #expect(service.delivered.withLock { $0 } == ["Deploy finished"])
        }
    }

    /// Only expiry ends an item unsent, whoever notices it, and it says so.
    @Test func onlyExpiryEndsAnItemUnsentAndTheHistorySaysSo() async throws {
        let directory = try OutboxTests.temporaryDirectory()
        let service = OutboxTests.SwitchableBark(up: false)
        try await FakeService.with(service.handler) { fake in
            let first = try notifier(bark(fake.baseURL, extra: ["MCP_PUSH_OUTBOX_MAX_AGE": "60"]), directory: directory)
            #expect(try await first.send(title: "Nightly", content: "failed").status == .queued)
            await first.shutdown()

            let dingOnly = try notifier(["DD_BOT_TOKEN": Self.dingToken], directory: directory)
            #expect(await dingOnly.workOutbox(now: Date().addingTimeInterval(30)).expired == 0)
            #expect(await dingOnly.workOutbox(now: Date().addingTimeInterval(90)).expired == 1)
            let entries = try await dingOnly.outboxEntries()
            #expect(entries.map(\.state) == [.expired])
            let history = try await dingOnly.recentDeliveries(limit: 10)
            let expired = try #require(history.first)
            #expect(expired.channel == "bark" && expired.source == .outbox && !expired.ok)
            #expect(expired.error?.contains("expired") == true && expired.error?.contains("HTTP 503") == true, "\(expired.error ?? "")")
            #expect(expired.title == "Nightly")
            await dingOnly.shutdown()
        }
    }

    /// Defect: nothing was written before the first attempt, so `kill -9` mid-send lost the
    /// message. Here the "killed" process wrote ahead and never settled: the next one sends it
    /// once the claim has run out, and not before.
    @Test func aProcessKilledMidSendLeavesItsDeliveryToTheNext() async throws {
        let directory = try OutboxTests.temporaryDirectory()
        let service = OutboxTests.SwitchableBark(up: true)
        try await FakeService.with(service.handler) { fake in
            let killed = try notifier(bark(fake.baseURL), directory: directory)
            let store = await killed.store
            let channel = try #require(killed.setup.configured.first)
            let message = Message(title: "Training done", body: "loss 0.12")
            let begun = try await store.beginCall(
                [Store.PlannedDelivery(target: killed.setup.target(of: channel), message: message)], title: message.title, runID: nil,
                owner: "killed-process", lease: .seconds(60), expiresAt: Date().addingTimeInterval(3600), now: Date())
            #expect(begun.items["bark"]?.admission == .send)

            let next = try notifier(bark(fake.baseURL), directory: directory)
            let entries = try await next.outboxEntries()
            #expect(entries.map(\.state) == [.sending] && entries[0].reason == .interrupted)
            #expect(await next.workOutbox().delivered == 0, "a live claim is never taken over")
            #expect(await next.workOutbox(now: Date().addingTimeInterval(61)).delivered == 1)
            #expect(try await next.outboxEntries().isEmpty)
            await next.shutdown()
            #expect(service.delivered.withLock { $0 } == ["Training done"])
        }
    }

    /// Defect: a call interrupted while a channel hung (stdin closed, server stopping) was
    /// cancelled into nothing. Interrupted, it is queued, and the next process sends it.
    @Test func anInterruptedCallQueuesWhatIsInFlight() async throws {
        let directory = try OutboxTests.temporaryDirectory()
        let hangs = Mutex(true)
        let delivered = Mutex(0)
        let handler: FakeService.Handler = { _ in
            if hangs.withLock({ $0 }) { try await Task.sleep(for: .seconds(30)) }
            delivered.withLock { $0 += 1 }
            return .raw(OutboxTests.barkSuccess)
        }
        try await FakeService.with(handler) { fake in
            let variables = bark(fake.baseURL, extra: ["MCP_PUSH_TIMEOUT": "20", "MCP_PUSH_DEADLINE": "25"])
            let server = try notifier(variables, directory: directory, worksOutbox: true)
            let call = Task { try await server.send(title: "Still running", content: "step 3") }
            try await Task.sleep(for: .milliseconds(500))
            let clock = ContinuousClock()
            let start = clock.now
            await server.interruptCalls()
            let result = try await call.value
            #expect(clock.now - start < .seconds(3))
            let bark = try #require(result.results.first)
            #expect(bark.queued, "\(result.jsonText)")
            guard case .queued(_, _, .interrupted, _) = bark.outcome else {
                Issue.record("expected an interrupted delivery, got \(bark.outcome)")
                return
            }
            #expect(try await server.recentDeliveries(limit: 5).first?.queued == true)
            await server.shutdown()

            hangs.withLock { $0 = false }
            let next = try notifier(variables, directory: directory)
            #expect(try await next.flushOutbox().delivered == 1)
            await next.shutdown()
            #expect(delivered.withLock { $0 } == 1)
        }
    }

    /// Defect: the CLI accepted what the tool refused. The core checks every adapter's input.
    @Test(arguments: [
        (["progress": JSONValue.int(2)], "data.progress"), (["progress": .string("half")], "data.progress"),
        (["step": .int(3)], "data.step"), (["error_code": .bool(true)], "data.error_code"),
    ])
    func eventDataIsCheckedInTheCore(data: [String: JSONValue], field: String) async throws {
        let notifier = try Notifier(configuration: Configuration(["BARK_PUSH": Self.barkKey]))
        do {
            _ = try await notifier.event(RunEvent(runID: "r", kind: .end, message: "m", data: data))
            Issue.record("accepted \(data)")
        } catch {
            #expect(error.field == field)
        }
        await notifier.shutdown()
    }

    /// A message cut to a service's limit says so in its result.
    @Test func aCutMessageSaysSo() async throws {
        try await FakeService.with({ _ in .raw(#"{"errcode":0,"errmsg":"ok"}"#) }) { fake in
            let notifier = try Notifier(configuration: Configuration(["QYWX_KEY": "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", "MCP_PUSH_WECOM_BOT_BASE_URL": fake.baseURL]))
            let long = try await notifier.send(title: "Log", content: String(repeating: "x", count: 5000))
            let short = try await notifier.send(title: "Log", content: "short")
            await notifier.shutdown()
            #expect(long.results.first?.truncated == true && long.jsonText.contains(#""truncated":true"#))
            #expect(short.results.first?.truncated == false && !short.jsonText.contains("truncated"))
        }
    }
}
