import Foundation
import Logging
@testable import PushCore
import Synchronization
import TestSupport
import Testing

/// The shared store between processes (each Notifier here stands for one mcp-push
/// process on the same state directory): outbox, runs, flood control, failures of the store.
@Suite struct OutboxTests {
    static let barkKey = "BarkDeviceKey0123456789"
    static let barkSuccess = #"{"code":200,"message":"success","timestamp":1732406400}"#

    /// A Bark service that can be switched down (503) and up, recording what it delivered.
    final class SwitchableBark: Sendable {
        let isUp: Mutex<Bool>
        let delivered = Mutex<[String]>([])

        init(up: Bool) {
            isUp = Mutex(up)
        }

        var handler: FakeService.Handler {
            { request in
                guard self.isUp.withLock({ $0 }) else {
                    return .raw("<html>503 Service Unavailable</html>", status: 503, contentType: "text/html")
                }
                let title = request.json?["title"]?.string ?? "?"
                self.delivered.withLock { $0.append(title) }
                return .raw(OutboxTests.barkSuccess)
            }
        }
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-push-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func notifier(_ variables: [String: String], directory: String, worksOutbox: Bool = false) throws -> Notifier {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try Notifier(configuration: Configuration(variables), logger: logger, store: .directory(directory), worksOutbox: worksOutbox)
    }

    func bark(_ baseURL: String) -> [String: String] {
        ["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": baseURL, "MCP_PUSH_TIMEOUT": "1", "MCP_PUSH_DEADLINE": "1.5", "MCP_PUSH_RETRIES": "1"]
    }

    @Test func downPastTheDeadlineIsQueuedThenDeliveredOnceByTheNextProcess() async throws {
        let directory = try Self.temporaryDirectory()
        let service = SwitchableBark(up: false)
        try await FakeService.with(service.handler) { fake in
            let first = try notifier(bark(fake.baseURL), directory: directory)
            let result = try await first.send(title: "Deploy finished", content: "v1.2.3 is live")
            await first.shutdown()
            #expect(result.status == .queued)
            #expect(result.message.contains("1 queued"))
            let queuedBark = try #require(result.results.first)
            #expect(queuedBark.queued && !queuedBark.ok)
            #expect(queuedBark.error?.contains("HTTP 503") == true)

            service.isUp.withLock { $0 = true }
            let second = try notifier(bark(fake.baseURL), directory: directory)
            #expect(try await second.outboxEntries().count == 1)
            let pass = try await second.flushOutbox()
            #expect(pass.delivered == 1)
            #expect(try await second.flushOutbox().delivered == 0)
            #expect(try await second.outboxEntries().isEmpty)
            let history = try await second.recentDeliveries(limit: 10)
            #expect(history.first?.ok == true)
            #expect(history.first?.source == .outbox)
            await second.shutdown()
            #expect(service.delivered.withLock { $0 } == ["Deploy finished"])
        }
    }

    @Test func twoProcessesFlushingTogetherSendEachDeliveryOnce() async throws {
        let directory = try Self.temporaryDirectory()
        let service = SwitchableBark(up: false)
        try await FakeService.with(service.handler) { fake in
            let first = try notifier(bark(fake.baseURL), directory: directory)
            for index in 1...12 {
                let result = try await first.send(title: "Job \(index)", content: "finished")
                #expect(result.status == .queued)
            }
            service.isUp.withLock { $0 = true }
            let second = try notifier(bark(fake.baseURL), directory: directory)
            async let a = first.flushOutbox()
            async let b = second.flushOutbox()
            let (passA, passB) = try await (a, b)
            #expect(passA.delivered + passB.delivered == 12)
            await first.shutdown()
            await second.shutdown()
            let delivered = service.delivered.withLock { $0 }
            #expect(delivered.count == 12)
            #expect(Set(delivered).count == 12, "each queued delivery is sent exactly once")
            // One channel's queue goes out in the order it was queued.
            #expect(delivered == (1...12).map { "Job \($0)" })
        }
    }

    @Test func runDurationSpansProcesses() async throws {
        let directory = try Self.temporaryDirectory()
        let received = Mutex<[String]>([])
        let handler: FakeService.Handler = { request in
            received.withLock { $0.append(request.json?["body"]?.string ?? "") }
            return .raw(Self.barkSuccess)
        }
        try await FakeService.with(handler) { fake in
            let variables = ["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": fake.baseURL]
            let started = try #require(RFC3339.parse("2026-11-24T09:00:00Z"))
            let first = try notifier(variables, directory: directory)
            let start = RunEvent(runID: "train-7", kind: .start, message: "training", data: [:], timestamp: started)
            #expect(try await first.event(start).status == .skipped)
            let update = RunEvent(runID: "train-7", kind: .update, message: "epoch 9", data: ["progress": 0.9], timestamp: started.addingTimeInterval(300))
            _ = try await first.event(update)
            await first.shutdown()

            let second = try notifier(variables, directory: directory)
            let end = RunEvent(runID: "train-7", kind: .end, message: "done", data: [:], timestamp: started.addingTimeInterval(725))
            #expect(try await second.event(end).status == .success)
            let detail = try #require(try await second.runDetail("train-7"))
            await second.shutdown()
            #expect(detail.durationMilliseconds == 725_000)
            #expect(detail.events.map(\.kind) == [.start, .update, .end])
            let body = try #require(received.withLock { $0 }.last)
            #expect(body.contains("Took: 12m 05s"))
            #expect(body.contains("90%"))
        }
    }

    @Test(arguments: ["corrupt", "not a directory"])
    func anUnusableDatabaseNeverStopsSending(problem: String) async throws {
        let directory = try Self.temporaryDirectory()
        let stateDirectory: String
        if problem == "corrupt" {
            stateDirectory = directory
            try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: "\(directory)/mcp-push.sqlite"))
        } else {
            stateDirectory = "\(directory)/file"
            try Data("x".utf8).write(to: URL(fileURLWithPath: stateDirectory))
        }
        try await expectSendingDespiteTheStore(in: stateDirectory, warningNames: nil)
    }

    /// Sends one message with the store in `directory` unusable: it must arrive, and the
    /// result must warn that history was not recorded (naming `warningNames` when given).
    func expectSendingDespiteTheStore(in directory: String, warningNames: String?) async throws {
        try await FakeService.with({ _ in .raw(Self.barkSuccess) }) { fake in
            let notifier = try notifier(["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": fake.baseURL], directory: directory)
            let result = try await notifier.send(title: "Still here", content: "despite the store")
            await notifier.shutdown()
            #expect(result.status == .success)
            #expect(fake.requests.count == 1)
            #expect(
                result.warnings.contains { $0.contains("history not recorded") && warningNames.map($0.contains) ?? true },
                "warnings: \(result.warnings)")
        }
    }

    @Test(.enabled(if: ReadOnlyFiles.canBeMade, "this machine cannot make a file read-only for the test's user"))
    func aReadOnlyDatabaseNeverStopsSending() async throws {
        let directory = try Self.temporaryDirectory()
        let file = "\(directory)/mcp-push.sqlite"
        do {
            // A real store, written and closed, that then cannot be written.
            let store = SQLiteStore.open(directory: directory, logger: Logger(label: "test"))
            #expect(store.isPersistent)
        }
        #expect(FileManager.default.fileExists(atPath: file))
        try ReadOnlyFiles.lock([file, directory])
        defer { ReadOnlyFiles.unlock([file, directory]) }
        try await expectSendingDespiteTheStore(in: directory, warningNames: file)
    }

    @Test func theSameMessageAgainIsSkippedAsDuplicate() async throws {
        let directory = try Self.temporaryDirectory()
        try await FakeService.with({ _ in .raw(Self.barkSuccess) }) { fake in
            let variables = ["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": fake.baseURL]
            let first = try notifier(variables, directory: directory)
            #expect(try await first.send(title: "Done", content: "same").status == .success)
            await first.shutdown()
            let second = try notifier(variables, directory: directory)
            let again = try await second.send(title: "Done", content: "same")
            #expect(again.status == .skipped)
            #expect(again.reason == .duplicate)
            #expect(try await second.send(title: "Done", content: "different").status == .success)
            await second.shutdown()
            #expect(fake.requests.count == 2)
        }
    }

    @Test func longTextIsCutToTheServiceLimitWithAMarker() async throws {
        let key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
        try await FakeService.with({ _ in .raw(#"{"errcode":0,"errmsg":"ok"}"#) }) { fake in
            let notifier = try Notifier(configuration: Configuration(["QYWX_KEY": key, "MCP_PUSH_WECOM_BOT_BASE_URL": fake.baseURL]))
            let content = String(repeating: "构建日志🚀 ", count: 400)
            let result = try await notifier.send(title: "Build log", content: content)
            await notifier.shutdown()
            #expect(result.status == .success)
            let sent = try #require(fake.lastRequest?.json?["text"]?["content"]?.string)
            #expect(sent.utf8.count <= 2048)
            #expect(sent.hasSuffix("…(truncated)"))
            #expect(sent.hasPrefix("Build log\n\n构建日志🚀"))
        }
    }

    @Test func digestsAreLowerCaseHexSHA256() {
        #expect(Store.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        let digest = Store.digest(of: Message(title: "t", body: "b"), channels: ["ntfy", "bark"])
        #expect(digest == Store.digest(of: Message(title: "t", body: "b"), channels: ["bark", "ntfy"]))
        #expect(digest != Store.digest(of: Message(title: "t", body: "b"), channels: nil))
        #expect(digest.count == 64 && digest.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test func oneCallAdmitsEveryChannelAtOnce() throws {
        let store = SQLiteStore.open(directory: try Self.temporaryDirectory(), logger: Logger(label: "test"))
        let twoAMinute = [RateLimit(2, per: .seconds(60))]
        let now = Date()
        _ = try store.enqueue(
            channel: "ntfy", message: Message(title: "earlier", body: "waiting"), reason: .rateLimit, notBefore: now,
            attempts: 0, lastError: nil)

        let first = try store.admit([("dingtalk", twoAMinute), ("ntfy", twoAMinute), ("bark", [])], now: now)
        #expect(first == ["dingtalk": .send, "ntfy": .queueBehind])
        #expect(try store.admit([("dingtalk", twoAMinute)], now: now.addingTimeInterval(1)) == ["dingtalk": .send])
        let third = try store.admit([("dingtalk", twoAMinute)], now: now.addingTimeInterval(2))
        // The oldest of the two slots leaves the window (60 s and the 5 % margin) at now + 63 s.
        guard case .wait(let until, let limit)? = third["dingtalk"] else {
            Issue.record("the third message in a minute must wait, got \(String(describing: third["dingtalk"]))")
            return
        }
        #expect(limit == twoAMinute[0])
        #expect(abs(until.timeIntervalSince(now) - 63) < 0.01)
    }

    @Test func aBurstOverTheRateLimitWaitsAndAllArriveInOrder() async throws {
        let directory = try Self.temporaryDirectory()
        let arrivals = Mutex<[(String, Date)]>([])
        let handler: FakeService.Handler = { request in
            let text = request.json?["text"]?["content"]?.string ?? ""
            arrivals.withLock { $0.append((text, Date())) }
            return .raw(#"{"errcode":0,"errmsg":"ok"}"#)
        }
        try await FakeService.with(handler) { fake in
            let variables = ["DD_BOT_TOKEN": "DingAccessToken0123456789abcdef", "MCP_PUSH_DINGTALK_BASE_URL": fake.baseURL]
            let notifier = try notifier(variables, directory: directory, worksOutbox: true)
            let worker = Task { await notifier.runOutboxWorker(interval: .milliseconds(250)) }
            var queued = 0
            for index in 1...25 {
                let result = try await notifier.send(title: "Step \(index)", content: "done")
                if result.status == .queued { queued += 1 }
            }
            #expect(queued == 5)
            let clock = ContinuousClock()
            let giveUp = clock.now + .seconds(90)
            while arrivals.withLock({ $0.count }) < 25 && clock.now < giveUp {
                try await Task.sleep(for: .milliseconds(250))
            }
            worker.cancel()
            await worker.value
            await notifier.shutdown()
            let all = arrivals.withLock { $0 }
            #expect(all.count == 25)
            #expect(all.map { String($0.0.prefix(while: { $0 != "\n" })) } == (1...25).map { "Step \($0)" })
            for (index, arrival) in all.enumerated() {
                let window = all[index...].prefix { $0.1.timeIntervalSince(arrival.1) < 60 }
                #expect(window.count <= 20, "\(window.count) messages within a minute from #\(index + 1)")
            }
        }
    }
}

/// Files the test's user cannot write: mode bits for a normal user; for root, who ignores
/// them, the immutable attribute (ext4 and most Linux file systems).
enum ReadOnlyFiles {
    static let isRoot = getuid() == 0

    static func lock(_ paths: [String]) throws {
        for path in paths {
            if isRoot {
                guard run("/usr/bin/chattr", "+i", path) else { throw CocoaError(.fileWriteNoPermission) }
            } else {
                try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: path)
            }
        }
    }

    static func unlock(_ paths: [String]) {
        for path in paths {
            if isRoot {
                _ = run("/usr/bin/chattr", "-i", path)
            } else {
                try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            }
        }
    }

    /// Whether locking really stops writes here (it does not on every file system).
    static let canBeMade: Bool = {
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-push-ro-\(UUID().uuidString)").path
        guard FileManager.default.createFile(atPath: probe, contents: Data("x".utf8)) else { return false }
        defer {
            unlock([probe])
            try? FileManager.default.removeItem(atPath: probe)
        }
        guard (try? lock([probe])) != nil else { return false }
        return FileHandle(forWritingAtPath: probe) == nil
    }()

    private static func run(_ tool: String, _ arguments: String...) -> Bool {
        guard FileManager.default.isExecutableFile(atPath: tool) else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
