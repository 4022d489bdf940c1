import Foundation
import Logging
@testable import PushCore
import TestSupport
import Testing

@Suite struct DispatcherTests {
    static let barkKey = "BarkDeviceKey0123456789"
    static let dingToken = "DingAccessToken0123456789abcdef"

    static let barkOK: FakeService.Handler = { _ in .raw(#"{"code":200,"message":"success","timestamp":1732406400}"#) }
    static let dingOK: FakeService.Handler = { _ in .raw(#"{"errcode":0,"errmsg":"ok"}"#) }

    static func hanging(_ seconds: Double) -> FakeService.Handler {
        { _ in
            try await Task.sleep(for: .seconds(seconds))
            return .raw(#"{"code":200,"message":"success"}"#)
        }
    }

    static func delayed(_ seconds: Double, _ handler: @escaping FakeService.Handler) -> FakeService.Handler {
        { request in
            try await Task.sleep(for: .seconds(seconds))
            return try await handler(request)
        }
    }

    func notifier(_ variables: [String: String]) throws -> Notifier {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try Notifier(configuration: Configuration(variables), logger: logger)
    }

    func send(_ variables: [String: String], channels: [ChannelID]? = nil, title: String = "Done") async throws -> (DispatchResult, Duration) {
        let notifier = try notifier(variables)
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await notifier.send(title: title, content: "body", channels: channels)
        let elapsed = clock.now - start
        await notifier.shutdown()
        return (result, elapsed)
    }

    @Test func channelsAreSentToConcurrently() async throws {
        try await FakeService.with(Self.delayed(1.0, Self.barkOK)) { bark in
            try await FakeService.with(Self.delayed(1.0, Self.dingOK)) { ding in
                let (result, elapsed) = try await send([
                    "BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL,
                    "DD_BOT_TOKEN": Self.dingToken, "MCP_PUSH_DINGTALK_BASE_URL": ding.baseURL,
                ])
                #expect(result.status == .success)
                #expect(result.results.map(\.channel) == ["bark", "dingtalk"])
                #expect(result.results.allSatisfy { $0.ok && $0.attempts == 1 && $0.statusCode == 200 })
                // Overlapping: the call took less than the two channels' times added (one after the other would),
                // however loaded the machine.
                let apart = result.results.map(\.durationMilliseconds).reduce(0, +)
                #expect(elapsed < .milliseconds(apart), "two 1 s channels must overlap, took \(elapsed) for \(apart) ms of deliveries")
            }
        }
    }

    @Test func aHangingChannelTimesOutWithoutDelayingTheOthers() async throws {
        try await FakeService.with(Self.hanging(30)) { bark in
            try await FakeService.with(Self.dingOK) { ding in
                let (result, elapsed) = try await send([
                    "BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL,
                    "DD_BOT_TOKEN": Self.dingToken, "MCP_PUSH_DINGTALK_BASE_URL": ding.baseURL,
                    "MCP_PUSH_TIMEOUT": "0.5", "MCP_PUSH_RETRIES": "0",
                ])
                #expect(result.status == .partialSuccess)
                #expect(result.errors["bark"] == "timed out after 500 ms")
                #expect(result.errors["dingtalk"] == nil)
                let dingtalk = try #require(result.results.first { $0.channel == "dingtalk" })
                // Not held up by the hanging channel: done before bark's time ran out (however loaded the machine).
                let hanging = try #require(result.results.first { $0.channel == "bark" })
                #expect(dingtalk.ok && dingtalk.durationMilliseconds < hanging.durationMilliseconds)
                // Ended by the 0.5 s timeout, not the service's 30 s hang; how long past 0.5 s a machine running
                // every suite at once takes to get there is not what is tested.
                #expect(elapsed >= .milliseconds(450) && elapsed < .seconds(10), "took \(elapsed)")
                #expect(!result.isError)
            }
        }
    }

    @Test func everyChannelFailingIsAnErrorNamingEach() async throws {
        try await FakeService.with({ _ in .raw(#"{"errcode":300001,"errmsg":"token is not exist"}"#) }) { ding in
            let (result, _) = try await send([
                "BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": "http://127.0.0.1:1",
                "DD_BOT_TOKEN": Self.dingToken, "MCP_PUSH_DINGTALK_BASE_URL": ding.baseURL, "MCP_PUSH_RETRIES": "0",
            ])
            #expect(result.status == .error)
            #expect(result.isError)
            #expect(result.errors["bark"] == "connection refused (127.0.0.1:1)")
            #expect(result.errors["dingtalk"]?.hasPrefix("errcode 300001: token is not exist") == true)
            #expect(result.errors["dingtalk"]?.hasSuffix("permanent error, not retried") == true)
            #expect(result.message.contains("bark") && result.message.contains("dingtalk"))
        }
    }

    @Test func secretsEchoedByAServiceAreRedacted() async throws {
        // A service (or a proxy in front of it) that quotes the request URL in its error.
        let echo: FakeService.Handler = { request in
            .json(["errcode": 300001, "errmsg": .string("token \(request.query["access_token"] ?? "") is not exist; url=\(request.path)?\(request.rawQuery)")])
        }
        try await FakeService.with(echo) { ding in
            let (result, _) = try await send(["DD_BOT_TOKEN": Self.dingToken, "DD_BOT_SECRET": "SEC-secret-value-42", "MCP_PUSH_DINGTALK_BASE_URL": ding.baseURL])
            let text = result.jsonText
            #expect(!text.contains(Self.dingToken))
            #expect(text.contains("token *** is not exist"))
            #expect(text.contains("access_token=***"))
        }
    }

    @Test func noChannelConfiguredSaysHowToConfigureOne() async throws {
        let (result, _) = try await send([:])
        #expect(result.status == .error)
        #expect(result.message.contains("No notification channel is configured"))
        #expect(result.message.contains("export BARK_PUSH="))
        #expect(result.message.contains("mcp-push channels"))
    }

    @Test func requestedChannelsOnly() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            try await FakeService.with(Self.dingOK) { ding in
                let variables = [
                    "BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL,
                    "DD_BOT_TOKEN": Self.dingToken, "MCP_PUSH_DINGTALK_BASE_URL": ding.baseURL,
                ]
                let (result, _) = try await send(variables, channels: ["dingtalk"])
                #expect(result.results.map(\.channel) == ["dingtalk"])
                #expect(bark.requests.isEmpty)
                #expect(ding.requests.count == 1)
            }
        }
    }

    @Test func requestedButUnconfiguredChannelIsReported() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            let (result, _) = try await send(["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL], channels: ["bark", "dingtalk"])
            #expect(result.status == .partialSuccess)
            #expect(result.errors["dingtalk"] == "not configured: set DD_BOT_TOKEN")
        }
    }

    @Test func unknownRequestedChannelIsAnInputError() async throws {
        let notifier = try notifier(["BARK_PUSH": Self.barkKey])
        await #expect(throws: InputError.self) {
            try await notifier.send(title: "t", content: "c", channels: ["pigeon"])
        }
        do {
            _ = try await notifier.send(title: "t", content: "c", channels: ["pigeon"])
        } catch {
            #expect(error.field == "channels")
            #expect(error.description.contains("'pigeon'") && error.description.contains("bark"))
        }
        await notifier.shutdown()
    }

    @Test func emptyTitleIsAnInputError() async throws {
        let notifier = try notifier(["BARK_PUSH": Self.barkKey])
        do {
            _ = try await notifier.send(title: "  ", content: "c")
            Issue.record("an empty title must be refused")
        } catch {
            #expect(error.field == "title")
        }
        await notifier.shutdown()
    }

    @Test func mcpPushChannelsRestrictsSending() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            try await FakeService.with(Self.dingOK) { ding in
                let (result, _) = try await send([
                    "BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL,
                    "DD_BOT_TOKEN": Self.dingToken, "MCP_PUSH_DINGTALK_BASE_URL": ding.baseURL,
                    "MCP_PUSH_CHANNELS": "bark",
                ])
                #expect(result.results.map(\.channel) == ["bark"])
                #expect(ding.requests.isEmpty)
            }
        }
        #expect(throws: ConfigurationError.self) { try DispatchSettings(configuration: Configuration(["MCP_PUSH_CHANNELS": "bark,pigeon"])) }
    }

    @Test func skippedTitlesAreNotPushed() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            let variables = ["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL, "SKIP_PUSH_TITLE": "Nightly ping\nDone"]
            let (skipped, _) = try await send(variables, title: "Done")
            #expect(skipped.status == .skipped)
            #expect(skipped.message.contains("SKIP_PUSH_TITLE"))
            #expect(bark.requests.isEmpty)
            let (sent, _) = try await send(variables, title: "Done twice")
            #expect(sent.status == .success)
        }
    }

    @Test func misconfiguredChannelIsNotSentToButMentioned() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            let (result, _) = try await send(["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL, "DD_BOT_SECRET": "SECabcdef"])
            #expect(result.status == .success)
            #expect(result.results.map(\.channel) == ["bark"])
            #expect(result.message.contains("dingtalk (missing DD_BOT_TOKEN)"))
        }
    }

    @Test func invalidTimeoutIsAConfigurationError() {
        #expect(throws: ConfigurationError.invalid("MCP_PUSH_TIMEOUT", "expected a positive number of seconds, got \"soon\"")) {
            try DispatchSettings(configuration: Configuration(["MCP_PUSH_TIMEOUT": "soon"]))
        }
    }
}

/// Defect: huge duration settings crashed the process (SIGILL) instead of being refused.
@Suite struct DurationBoundsTests {
    @Test(arguments: [
        ("MCP_PUSH_TIMEOUT", "1e300"), ("MCP_PUSH_TIMEOUT", "9e12"), ("MCP_PUSH_TIMEOUT", "301"),
        ("MCP_PUSH_DEADLINE", "9223372036854776"), ("MCP_PUSH_DEADLINE", "-1"), ("MCP_PUSH_DEADLINE", "nan"),
        ("MCP_PUSH_OUTBOX_MAX_AGE", "1e300"), ("MCP_PUSH_OUTBOX_MAX_AGE", "inf"), ("MCP_PUSH_OUTBOX_MAX_AGE", "0"),
    ])
    func outOfRangeDurationsAreConfigurationErrors(name: String, value: String) {
        do {
            _ = try DispatchSettings(configuration: Configuration([name: value]))
            Issue.record("\(name)=\(value) was accepted")
        } catch {
            guard case .invalid(let variable, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(variable == name)
            #expect(reason.contains("got \"\(value)\""), "the user's own value is shown: \(reason)")
        }
    }

    @Test func theLimitsThemselvesAreAccepted() throws {
        let settings = try DispatchSettings(configuration: Configuration([
            "MCP_PUSH_TIMEOUT": "300", "MCP_PUSH_DEADLINE": "3600", "MCP_PUSH_OUTBOX_MAX_AGE": "2592000",
        ]))
        #expect(settings.timeout == .seconds(300) && settings.deadline == .seconds(3600) && settings.outboxMaximumAge == .seconds(2_592_000))
    }
}
