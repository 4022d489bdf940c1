import Foundation
@testable import PushCore
import Synchronization
import TestSupport
import Testing

/// Quiet hours on a clock we choose: which moments are quiet, when they end, and what becomes of a
/// message then (silent fields, or held and delivered at the end, nothing lost).
@Suite struct QuietHoursTests {
    static let utc = TimeZone(identifier: "UTC")!

    static func date(_ text: String) -> Date { RFC3339.parse(text)! }

    /// HH:MM:SS in UTC, `offset` seconds from now.
    static func clock(_ offset: Double) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let parts = calendar.dateComponents([.hour, .minute, .second], from: Date().addingTimeInterval(offset))
        return String(format: "%02d:%02d:%02d", parts.hour!, parts.minute!, parts.second!)
    }

    @Test func aRangePastMidnightWraps() throws {
        let quiet = try #require(try QuietHours(configuration: Configuration(["MCP_PUSH_QUIET_HOURS": "22:00-08:00", "MCP_PUSH_TZ": "UTC"])))
        #expect(quiet.contains(Self.date("2026-12-04T23:30:00Z")))
        #expect(quiet.contains(Self.date("2026-12-04T07:59:59Z")))
        #expect(!quiet.contains(Self.date("2026-12-04T08:00:00Z")))
        #expect(!quiet.contains(Self.date("2026-12-04T21:59:00Z")))
        #expect(quiet.end(after: Self.date("2026-12-04T23:30:00Z")) == Self.date("2026-12-05T08:00:00Z"))
        #expect(quiet.end(after: Self.date("2026-12-05T03:00:00Z")) == Self.date("2026-12-05T08:00:00Z"))
        #expect(quiet.applies(to: .error, at: Self.date("2026-12-04T23:30:00Z")) && !quiet.applies(to: .critical, at: Self.date("2026-12-04T23:30:00Z")))
        let shanghai = try #require(try QuietHours(configuration: Configuration(["MCP_PUSH_QUIET_HOURS": "22:00-08:00", "MCP_PUSH_TZ": "Asia/Shanghai"])))
        #expect(shanghai.contains(Self.date("2026-12-04T15:00:00Z")))  // 23:00 in Shanghai
        #expect(!shanghai.contains(Self.date("2026-12-04T01:00:00Z")))  // 09:00 in Shanghai
        #expect(try QuietHours(configuration: Configuration([:])) == nil)
        for bad in ["22-08", "22:00", "25:00-08:00", "22:00-22:00", "22:00-8:00", "ten-eleven"] {
            #expect(throws: ConfigurationError.self) { try QuietHours(configuration: Configuration(["MCP_PUSH_QUIET_HOURS": bad])) }
        }
        #expect(throws: ConfigurationError.self) {
            try QuietHours(configuration: Configuration(["MCP_PUSH_QUIET_HOURS": "22:00-08:00", "MCP_PUSH_TZ": "Mars/Olympus"]))
        }
        #expect(throws: ConfigurationError.self) {
            try QuietHours(configuration: Configuration(["MCP_PUSH_QUIET_HOURS": "22:00-08:00", "MCP_PUSH_QUIET_MODE": "mute"]))
        }
    }

    @Test func silentModeSendsWithoutSoundButCriticalRings() async throws {
        let levels = Mutex<[String?]>([])
        try await FakeService.with({ request in
            levels.withLock { $0.append(request.json?["level"]?.string) }
            return .raw(OutboxTests.barkSuccess)
        }) { bark in
            let notifier = try Notifier(configuration: Configuration([
                "BARK_PUSH": OutboxTests.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL, "MCP_PUSH_DEDUP_SECONDS": "0",
                "MCP_PUSH_QUIET_HOURS": "\(Self.clock(-3600))-\(Self.clock(3600))", "MCP_PUSH_TZ": "UTC",
            ]))
            let quiet = try await notifier.send(title: "build done", content: "x", level: .error)
            #expect(quiet.status == .success && quiet.message.contains("Sent silently: quiet hours"))
            let loud = try await notifier.send(title: "prod down", content: "x", level: .critical)
            #expect(!loud.message.contains("silently"))
            await notifier.shutdown()
            #expect(levels.withLock { $0 } == ["passive", "critical"])
        }
    }

    @Test func telegramAndNtfyGoQuietToo() async throws {
        try await FakeService.with(NtfyTests.service()) { fake in
            let ntfy = try makeChannel(Ntfy.self, ["NTFY_TOPIC": NtfyTests.topic, "NTFY_URL": fake.baseURL])
            var quiet = Message(title: "t", body: "b", level: .error)
            quiet.silent = true
            let message = quiet
            #expect(try await withContext { try await ntfy.send(message, context: $0) }.ok)
            #expect(fake.lastRequest?.json?["priority"]?.int == 2)
        }
        try await FakeService.with(TelegramTests.service) { fake in
            let telegram = try makeChannel(Telegram.self, ["TG_BOT_TOKEN": TelegramTests.token, "TG_USER_ID": TelegramTests.chatID, "TG_API_HOST": fake.baseURL])
            var quiet = Message(title: "t", body: "b")
            quiet.silent = true
            let message = quiet
            #expect(try await withContext { try await telegram.send(message, context: $0) }.ok)
            #expect(fake.lastRequest?.json?["disable_notification"]?.bool == true)
        }
    }

    @Test func holdModeKeepsTheMessageUntilTheQuietHoursEnd() async throws {
        let directory = try OutboxTests.temporaryDirectory()
        let delivered = Mutex<[String]>([])
        try await FakeService.with({ request in
            delivered.withLock { $0.append(request.json?["title"]?.string ?? "") }
            return .raw(OutboxTests.barkSuccess)
        }) { bark in
            let variables = [
                "BARK_PUSH": OutboxTests.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL,
                "MCP_PUSH_QUIET_HOURS": "\(Self.clock(-3600))-\(Self.clock(3))", "MCP_PUSH_TZ": "UTC", "MCP_PUSH_QUIET_MODE": "hold",
            ]
            let first = try Notifier(configuration: Configuration(variables), store: .directory(directory))
            let held = try await first.send(title: "nightly done", content: "x", level: .success)
            #expect(held.status == .queued && held.message.contains("Held for the quiet hours"))
            guard case .queued(_, let until, .quietHours, _) = held.results.first?.outcome else {
                Issue.record("not held: \(held.results)")
                return
            }
            #expect(until > Date() && until < Date().addingTimeInterval(5))
            #expect(await first.workOutbox().delivered == 0)  // still quiet: nothing is due
            await first.shutdown()
            #expect(delivered.withLock { $0 }.isEmpty)
            try await Task.sleep(for: .seconds(max(0, until.timeIntervalSinceNow) + 0.5))
            let second = try Notifier(configuration: Configuration(variables), store: .directory(directory))
            #expect(await second.workOutbox().delivered == 1)
            await second.shutdown()
            #expect(delivered.withLock { $0 } == ["nightly done"])
        }
    }
}
