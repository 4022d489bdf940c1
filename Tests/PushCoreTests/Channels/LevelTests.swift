import Foundation
@testable import PushCore
import Synchronization
import TestSupport
import Testing

/// A message's level in each service's own terms, a marked title where a service has none, and the
/// routes and per-channel minimums that choose channels by level.
@Suite struct LevelTests {
    func send<C: Channel>(_ channel: C, _ message: Message) async throws -> Delivery {
        try await withContext { try await channel.send(message.prepared(for: C.descriptor), context: $0) }
    }

    @Test func barkBreaksThroughFocusForUrgentLevelsOnly() async throws {
        try await FakeService.with(BarkTests.service) { fake in
            let bark = try makeChannel(Bark.self, ["BARK_PUSH": BarkTests.key, "MCP_PUSH_BARK_BASE_URL": fake.baseURL, "BARK_LEVEL": "passive"])
            let expected: [(Level, String)] = [(.info, "passive"), (.success, "passive"), (.warning, "timeSensitive"), (.error, "timeSensitive"), (.critical, "critical")]
            for (level, barkLevel) in expected {
                #expect(try await send(bark, Message(title: "Deploy", body: "done", level: level)).ok)
                #expect(fake.lastRequest?.json?["level"]?.string == barkLevel, "\(level)")
                #expect(fake.lastRequest?.json?["title"]?.string == "Deploy", "Bark has a level of its own: the title is not marked")
            }
        }
    }

    @Test func ntfyRaisesPriorityAndTagsByLevel() async throws {
        try await FakeService.with(NtfyTests.service()) { fake in
            let ntfy = try makeChannel(Ntfy.self, ["NTFY_TOPIC": NtfyTests.topic, "NTFY_URL": fake.baseURL, "NTFY_PRIORITY": "2"])
            let expected: [(Level, Int, String?)] = [(.info, 2, nil), (.success, 2, "white_check_mark"), (.warning, 4, "warning"), (.error, 5, "x"), (.critical, 5, "rotating_light")]
            for (level, priority, tag) in expected {
                #expect(try await send(ntfy, Message(title: "Deploy", body: "done", level: level)).ok)
                let body = try #require(fake.lastRequest?.json)
                #expect(body["priority"]?.int == priority, "\(level)")
                #expect(body["tags"]?[0]?.string == tag, "\(level)")
            }
        }
    }

    @Test func gotifyRaisesPriorityForUrgentLevels() async throws {
        try await FakeService.with(GotifyTests.service()) { fake in
            let gotify = try makeChannel(Gotify.self, ["GOTIFY_URL": fake.baseURL, "GOTIFY_TOKEN": GotifyTests.token])
            for (level, priority) in [(Level.info, 5), (.warning, 6), (.error, 8), (.critical, 10)] {
                #expect(try await send(gotify, Message(title: "Deploy", body: "done", level: level)).ok)
                #expect(fake.lastRequest?.json?["priority"]?.int == priority, "\(level)")
            }
        }
    }

    @Test func aServiceWithoutLevelsGetsAMarkedTitle() {
        let prepared = Message(title: "Disk almost full", body: "95%", level: .warning).prepared(for: Telegram.descriptor)
        #expect(prepared.title == "⚠️ Disk almost full")
        #expect(Message(title: "Deploy", body: "x", level: .critical).prepared(for: DingTalk.descriptor).title == "🚨 Deploy")
        // Titles that already carry a symbol (the events' and hooks' ✅ ❌ ⏳) are left alone; info and success unmarked.
        #expect(Message(title: "❌ nightly failed", body: "x", level: .error).prepared(for: Telegram.descriptor).title == "❌ nightly failed")
        #expect(Message(title: "Deploy", body: "x", level: .success).prepared(for: Telegram.descriptor).title == "Deploy")
    }

    @Test func aMarkedTitleOrAnAddedLinkIsNotReportedAsCut() async throws {
        try await FakeService.with(TelegramTests.service) { fake in
            let notifier = try Notifier(configuration: Configuration([
                "TG_BOT_TOKEN": TelegramTests.token, "TG_USER_ID": TelegramTests.chatID, "TG_API_HOST": fake.baseURL,
            ]))
            let whole = try await notifier.send(title: "Disk", content: "95%", url: "https://example.com/d", level: .warning)
            #expect(whole.status == .success && whole.results.first?.truncated == false)
            #expect(fake.lastRequest?.json?["text"]?.string == "⚠️ Disk\n\n95%")
            #expect(fake.lastRequest?.json?["reply_markup"]?["inline_keyboard"]?[0]?[0]?["url"]?.string == "https://example.com/d")
            let long = try await notifier.send(title: "Log", content: String(repeating: "line\n", count: 5000), level: .warning)
            #expect(long.results.first?.truncated == true && long.results.first?.parts == 4)
            await notifier.shutdown()
        }
    }

    /// Telegram takes 4096 characters a message: a longer text goes as several, split after line breaks.
    @Test func aLongTelegramMessageIsSplitOnLineBreaks() async throws {
        try await FakeService.with(TelegramTests.service) { fake in
            let notifier = try Notifier(configuration: Configuration([
                "TG_BOT_TOKEN": TelegramTests.token, "TG_USER_ID": TelegramTests.chatID, "TG_API_HOST": fake.baseURL,
            ]))
            let lines = (1...420).map { "\($0): 日志日志日志日志日志 build step" }
            let body = lines.joined(separator: "\n")  // about 10 000 characters
            let result = try await notifier.send(title: "Build log", content: body)
            #expect(result.status == .success)
            let item = try #require(result.results.first)
            #expect(item.parts == 3 && !item.truncated)
            let texts = fake.requests.compactMap { $0.json?["text"]?.string }
            #expect(texts.count == 3)
            #expect(texts.allSatisfy { $0.utf16.count <= 4096 && !$0.hasPrefix("\n") })
            #expect(texts.joined() == "Build log\n\n" + body)  // nothing lost, nothing doubled
            #expect(texts.dropFirst().allSatisfy { $0.first?.isNumber == true })  // each part starts at a line
            await notifier.shutdown()
        }
    }

    @Test func splittingKeepsEveryCharacter() {
        let limit = TextLimit.utf16(10)
        #expect(limit.split("short") == ["short"])
        #expect(limit.split("aaaa\nbbbb\ncccc") == ["aaaa\nbbbb\n", "cccc"])
        #expect(limit.split("0123456789abcdef") == ["0123456789", "abcdef"])
        #expect(limit.split("👍👍👍👍👍👍") == ["👍👍👍👍👍", "👍"])  // never inside a character
        let text = (0..<50).map { "line \($0) 😀" }.joined(separator: "\n")
        #expect(TextLimit.utf16(64).split(text).joined() == text)
    }

    @Test func routesAndMinimumsAreRead() throws {
        let routing = try Routing(configuration: Configuration([
            "MCP_PUSH_ROUTES": "critical, error = telegram,bark ; info=ntfy", "MCP_PUSH_LEVEL_DINGTALK": "Error",
        ]))
        #expect(routing.routes == [.critical: ["telegram", "bark"], .error: ["telegram", "bark"], .info: ["ntfy"]])
        #expect(routing.minimum == ["dingtalk": .error])
        let configured = ["bark", "dingtalk", "telegram", "ntfy"]
        #expect(routing.channels(for: .error, among: configured) == ["bark", "telegram"])
        #expect(routing.channels(for: .info, among: configured) == ["ntfy"])
        // An unrouted level goes everywhere, except below a channel's minimum.
        #expect(routing.channels(for: .warning, among: configured) == ["bark", "telegram", "ntfy"])
        for (value, mention) in [("error=nosuch", "nosuch"), ("urgent=bark", "urgent"), ("error", "level=channel"), ("error=bark;error=ntfy", "twice"), ("error=", "no channel")] {
            #expect(throws: ConfigurationError.self) { try Routing(configuration: Configuration(["MCP_PUSH_ROUTES": value])) }
            do { _ = try Routing(configuration: Configuration(["MCP_PUSH_ROUTES": value])) } catch {
                #expect(error.description.contains(mention), "\(error)")
            }
        }
        #expect(throws: ConfigurationError.self) { try Routing(configuration: Configuration(["MCP_PUSH_LEVEL_BARK": "loud"])) }
        #expect(throws: ConfigurationError.self) { try Routing(configuration: Configuration(["MCP_PUSH_FALLBACK": "bark,pager"])) }
        // A fallback channel is not chosen until the others failed.
        let withFallback = try Routing(configuration: Configuration(["MCP_PUSH_FALLBACK": "webhook"]))
        #expect(withFallback.channels(for: .error, among: ["bark", "webhook"]) == ["bark"])
    }

    @Test func theLevelChoosesChannelsUnlessTheCallNamesThem() async throws {
        let barkTitles = Mutex<[String]>([])
        let bark: FakeService.Handler = { request in
            barkTitles.withLock { $0.append(request.json?["title"]?.string ?? "") }
            return .raw(OutboxTests.barkSuccess)
        }
        try await withBarkAndWebhook(bark, settings: ["MCP_PUSH_ROUTES": "critical=bark", "MCP_PUSH_LEVEL_WEBHOOK": "warning"]) { notifier, webhookTitles in
            let critical = try await notifier.send(title: "c", content: "x", level: .critical)
            #expect(critical.results.map(\.channel) == ["bark"])
            let warning = try await notifier.send(title: "w", content: "x", level: .warning)
            #expect(Set(warning.results.map(\.channel)) == ["bark", "webhook"])
            let info = try await notifier.send(title: "i", content: "x")
            #expect(info.results.map(\.channel) == ["bark"])  // the webhook waits for warning and up
            let named = try await notifier.send(title: "n", content: "x", channels: ["webhook"])
            #expect(named.results.map(\.channel) == ["webhook"] && named.status == .success)  // named channels win
            await notifier.shutdown()
            #expect(barkTitles.withLock { $0 } == ["c", "w", "i"])
            #expect(webhookTitles().sorted() == ["n", "⚠️ w"])
        }
    }

    @Test func nothingTakingTheLevelIsASkipThatSaysWhy() async throws {
        let notifier = try Notifier(configuration: Configuration(["BARK_PUSH": OutboxTests.barkKey, "MCP_PUSH_LEVEL_BARK": "error"]))
        let result = try await notifier.send(title: "t", content: "c", level: .info)
        #expect(result.status == .skipped && result.reason == .level)
        #expect(result.message.contains("MCP_PUSH_LEVEL_"))
        await notifier.shutdown()
    }
}

/// `MCP_PUSH_FALLBACK`: channels used only when every chosen channel failed for good.
@Suite struct FallbackTests {
    @Test func fallbackChannelsGetWhatEveryOtherChannelFailedToDeliver() async throws {
        let barkAnswer = Mutex((status: 400, body: #"{"code":400,"message":"failed to get device token: failed to get [x] device token from database","timestamp":1732406400}"#))
        let bark: FakeService.Handler = { _ in
            let (status, body) = barkAnswer.withLock { $0 }
            return .raw(body, status: status)
        }
        let settings = ["MCP_PUSH_RETRIES": "0", "MCP_PUSH_FALLBACK": "webhook", "MCP_PUSH_TIMEOUT": "1", "MCP_PUSH_DEADLINE": "1.5"]
        try await withBarkAndWebhook(bark, settings: settings, store: .directory(try OutboxTests.temporaryDirectory())) { notifier, webhookTitles in
            // Bark refuses for good: the fallback delivers, and the result says both.
            let failed = try await notifier.send(title: "first", content: "x")
            #expect(failed.results.map(\.channel) == ["bark", "webhook"])
            #expect(failed.status == .partialSuccess && failed.message.contains("Fell back to webhook"))
            // Bark delivers: the fallback stays quiet.
            barkAnswer.withLock { $0 = (200, OutboxTests.barkSuccess) }
            let delivered = try await notifier.send(title: "second", content: "x")
            #expect(delivered.results.map(\.channel) == ["bark"] && delivered.status == .success)
            // Bark is down (503: queued for a retry): not a failure for good, so no fallback.
            barkAnswer.withLock { $0 = (503, "<html>503</html>") }
            let queued = try await notifier.send(title: "third", content: "x")
            #expect(queued.results.map(\.channel) == ["bark"] && queued.status == .queued)
            // Named channels are sent as named.
            barkAnswer.withLock { $0 = (400, #"{"code":400,"message":"bad"}"#) }
            let named = try await notifier.send(title: "fourth", content: "x", channels: ["bark"])
            #expect(named.results.map(\.channel) == ["bark"])
            await notifier.shutdown()
            #expect(webhookTitles() == ["first"])
        }
    }
}

/// A Bark answering as `bark` says, a webhook that records the titles it gets, and a notifier sending to
/// both with `settings` on top: what the level and fallback tests share.
private func withBarkAndWebhook(
    _ bark: @escaping FakeService.Handler, settings: [String: String], store: Notifier.StoreLocation = .memory,
    _ body: @Sendable (Notifier, _ webhookTitles: @Sendable () -> [String]) async throws -> Void
) async throws {
    let webhookTitles = Mutex<[String]>([])
    try await FakeService.with(bark) { bark in
        try await FakeService.with({ request in
            webhookTitles.withLock { $0.append(request.json?["title"]?.string ?? "") }
            return .json(["ok": true])
        }) { hook in
            let notifier = try Notifier(
                configuration: Configuration(
                    [
                        "BARK_PUSH": OutboxTests.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL, "WEBHOOK_URL": hook.baseURL + "/hook",
                        "WEBHOOK_METHOD": "POST", "WEBHOOK_BODY": "title: $title", "MCP_PUSH_DEDUP_SECONDS": "0",
                    ].merging(settings) { $1 }), store: store)
            try await body(notifier, { webhookTitles.withLock { $0 } })
        }
    }
}
