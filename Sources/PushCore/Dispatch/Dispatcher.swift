import Foundation
import Logging

/// Settings that shape every dispatch, read from the environment.
public struct DispatchSettings: Sendable {
    /// Per-channel time limit (`MCP_PUSH_TIMEOUT`, seconds).
    public var timeout: Duration = .seconds(15)
    /// Channels sending is restricted to (`MCP_PUSH_CHANNELS`); nil means all configured ones.
    public var allowedChannels: Set<ChannelID>?
    /// Titles that are never pushed (`SKIP_PUSH_TITLE`, one per line).
    public var skippedTitles: Set<String> = []
    /// Retries of transient failures (`MCP_PUSH_RETRIES`).
    public var retry = RetryPolicy()
    /// The most one call may take, retries included (`MCP_PUSH_DEADLINE`, seconds).
    public var deadline: Duration = .seconds(30)
    /// How long a queued delivery keeps being retried (`MCP_PUSH_OUTBOX_MAX_AGE`, seconds).
    public var outboxMaximumAge: Duration = .seconds(24 * 3600)
    /// The same message again within this time is not pushed (`MCP_PUSH_DEDUP_SECONDS`; 0 turns it off).
    public var duplicateWindow: Duration = .seconds(60)

    public init() {}

    public init(configuration: Configuration) throws(ConfigurationError) {
        if let timeout = try configuration.seconds("MCP_PUSH_TIMEOUT") { self.timeout = timeout }
        if let retries = try configuration.int("MCP_PUSH_RETRIES", in: 0...10) { retry.retries = retries }
        if let deadline = try configuration.seconds("MCP_PUSH_DEADLINE") { self.deadline = deadline }
        if let maximumAge = try configuration.seconds("MCP_PUSH_OUTBOX_MAX_AGE") { outboxMaximumAge = maximumAge }
        if let window = try configuration.int("MCP_PUSH_DEDUP_SECONDS", in: 0...86_400) { duplicateWindow = .seconds(window) }
        if let allowed = configuration.list("MCP_PUSH_CHANNELS") {
            let unknown = allowed.filter { ChannelCatalogue.descriptor(for: $0) == nil }
            guard unknown.isEmpty else {
                throw .invalid(
                    "MCP_PUSH_CHANNELS",
                    "unknown channel \(unknown.joined(separator: ", ")); known: \(ChannelCatalogue.ids.joined(separator: ", "))")
            }
            allowedChannels = Set(allowed)
        }
        if let titles = configuration.raw("SKIP_PUSH_TITLE") {
            skippedTitles = Set(
                titles.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty })
        }
    }
}

/// Sends one message to many channels at once and gathers a truthful result.
///
/// Every channel runs in its own child task: its message is cut to the service's size
/// limit, held back in the outbox when the channel's rate limit is reached, and retried
/// while it fails transiently and the call's deadline allows; what still fails
/// transiently at the deadline goes to the outbox. The call takes as long as the
/// slowest channel, capped at the deadline.
public struct Dispatcher: Sendable {
    public let setup: ChannelSetup
    public let settings: DispatchSettings
    let http: HTTPService
    let redactor: Redactor
    let logger: Logger

    public init(setup: ChannelSetup, settings: DispatchSettings, http: HTTPService, redactor: Redactor, logger: Logger) {
        self.setup = setup
        self.settings = settings
        self.http = http
        self.redactor = redactor
        self.logger = logger
    }

    /// Where undelivered messages can wait: the store, when its outbox will be worked
    /// (a shared file, or this process's memory while a server runs the worker).
    public struct Outbox: Sendable {
        public let store: Store
        public init(store: Store) { self.store = store }
    }

    /// Delivers `message` to the configured channels, or to `requested` ones only.
    /// Callers validate that requested ids exist (``InputError``).
    public func dispatch(_ message: Message, to requested: [ChannelID]? = nil, outbox: Outbox? = nil) async -> Dispatch {
        if settings.skippedTitles.contains(message.title.trimmingWhitespace()) {
            var skipped = DispatchResult(status: .skipped, message: "Not pushed: the title is listed in SKIP_PUSH_TITLE.")
            skipped.reason = "skip_title"
            return Dispatch(result: skipped)
        }

        var targets: [any Channel] = []
        var unavailable: [ChannelResult] = []
        var misconfigured: [String] = []
        for entry in setup.entries {
            let id = entry.descriptor.id
            if let requested, !requested.contains(id) { continue }
            if let allowed = settings.allowedChannels, !allowed.contains(id) {
                if requested != nil {
                    unavailable.append(.unavailable(id, "not sent: MCP_PUSH_CHANNELS does not include \(id)"))
                }
                continue
            }
            switch entry.state {
            case .configured(let channel):
                targets.append(channel)
            case .misconfigured(let problem):
                // Asked for by name, it is a failure; otherwise a note, so one half-set channel does not fail every call.
                if requested != nil {
                    unavailable.append(.unavailable(id, "misconfigured: \(problem)"))
                } else {
                    misconfigured.append("\(id) (\(problem))")
                }
            case .off:
                if requested != nil {
                    let required = entry.descriptor.variables.filter(\.isRequired).map(\.name)
                    unavailable.append(.unavailable(id, "not configured: set \(required.joined(separator: " and "))"))
                }
            }
        }

        let note = misconfigured.isEmpty
            ? "" : " Not sent to misconfigured channels: \(misconfigured.joined(separator: "; ")); see `mcp-push channels`."
        if targets.isEmpty && unavailable.isEmpty {
            return Dispatch(result: DispatchResult(status: .error, message: Self.noChannelMessage(settings: settings) + note))
        }

        let outcomes = await deliver(message, to: targets, outbox: outbox)
        let order = Dictionary(uniqueKeysWithValues: setup.entries.enumerated().map { ($1.descriptor.id, $0) })
        let results = (outcomes.map(\.result) + unavailable).sorted { order[$0.channel, default: 0] < order[$1.channel, default: 0] }
        var summary = Self.summarize(results)
        summary.message += note
        var dispatch = Dispatch(result: summary, outboxItems: outcomes.compactMap(\.outboxItem))
        dispatch.result.warnings = outcomes.compactMap(\.warning)
        return dispatch
    }

    /// A dispatch's result and the outbox items it created (so the caller can link them
    /// to the notification it records).
    public struct Dispatch: Sendable {
        public var result: DispatchResult
        public var outboxItems: [Int64] = []
    }

    struct ChannelOutcome: Sendable {
        var result: ChannelResult
        var outboxItem: Int64?
        var warning: String?
    }

    private func deliver(_ message: Message, to channels: [any Channel], outbox: Outbox?) async -> [ChannelOutcome] {
        let context = DeliveryContext(http: http, timeout: settings.timeout, redactor: redactor, logger: logger)
        let retrying = RetryingDelivery(policy: settings.retry, attemptTimeout: settings.timeout, context: context)
        let clock = ContinuousClock()
        let deadline = clock.now + settings.deadline
        let admissions = admit(channels, outbox: outbox)
        return await withTaskGroup(of: ChannelOutcome.self) { group in
            for channel in channels {
                let admission = admissions[channel.id] ?? .send
                group.addTask {
                    let outcome = await deliver(
                        message, via: channel, admission: admission, retrying: retrying, deadline: deadline, outbox: outbox)
                    log(outcome.result)
                    return outcome
                }
            }
            var outcomes: [ChannelOutcome] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
    }

    /// Flood control for the whole call in one store transaction. The store failing must
    /// not stop the message: then every channel sends, unlimited this once.
    private func admit(_ channels: [any Channel], outbox: Outbox?) -> [ChannelID: Admission] {
        guard let outbox else { return [:] }
        do {
            return try outbox.store.admit(channels.map { ($0.id, type(of: $0).descriptor.rateLimits) })
        } catch {
            logger.warning("rate limit bookkeeping failed: \(error)")
            return [:]
        }
    }

    /// Why and until when a channel's message waits in the outbox; nil when it goes now.
    private static func queueing(_ admission: Admission, channel: ChannelID) -> (reason: String, notBefore: Date)? {
        switch admission {
        case .send:
            return nil
        case .queueBehind:
            return ("queued behind earlier messages waiting for \(channel)'s rate limit", Date())
        case .wait(let until, let limit):
            let wait = Duration.seconds(max(1, until.timeIntervalSinceNow)).roundedSecondsText
            return ("rate limit of \(limit) reached; queued, goes out in \(wait)", until)
        }
    }

    private func deliver(
        _ message: Message, via channel: any Channel, admission: Admission, retrying: RetryingDelivery,
        deadline: ContinuousClock.Instant, outbox: Outbox?
    ) async -> ChannelOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let descriptor = type(of: channel).descriptor
        let message = message.fitted(to: descriptor.maximumLength)

        // Flood control: wait in the outbox, behind anything already waiting, rather than exceed the limit.
        if let outbox, let (reason, notBefore) = Self.queueing(admission, channel: channel.id) {
            do {
                let id = try outbox.store.enqueue(
                    channel: channel.id, message: message, reason: "rate_limit", notBefore: notBefore, attempts: 0, lastError: reason)
                return ChannelOutcome(
                    result: ChannelResult(
                        channel: channel.id, ok: false, statusCode: nil, error: reason,
                        durationMilliseconds: (clock.now - start).milliseconds, attempts: 0, queued: true),
                    outboxItem: id)
            } catch {
                // Could not queue: send it, unlimited this once.
                logger.warning("rate limit bookkeeping failed for \(channel.id): \(error)")
            }
        }

        let outcome = await retrying.deliver(message, via: channel, deadline: deadline)
        var result = ChannelResult(
            channel: channel.id, ok: outcome.delivery.ok, statusCode: outcome.delivery.statusCode,
            error: redactor.redact(outcome.delivery.error), durationMilliseconds: (clock.now - start).milliseconds,
            attempts: outcome.attempts)
        guard !result.ok, outcome.delivery.isTransient, let outbox else {
            return ChannelOutcome(result: result)
        }
        do {
            let wait = outcome.retryAfter ?? .seconds(5)
            let id = try outbox.store.enqueue(
                channel: channel.id, message: message, reason: "retry", notBefore: Date().addingTimeInterval(Double(wait.milliseconds) / 1000),
                attempts: outcome.attempts, lastError: result.error)
            result.queued = true
            result.error = (result.error ?? "failed") + "; queued for retry in the background"
            return ChannelOutcome(result: result, outboxItem: id)
        } catch {
            return ChannelOutcome(result: result, warning: "could not queue \(channel.id) for a later retry: \(error)")
        }
    }

    private func log(_ result: ChannelResult) {
        if result.ok {
            logger.info("delivered", metadata: ["channel": "\(result.channel)", "ms": "\(result.durationMilliseconds)", "attempts": "\(result.attempts)"])
        } else {
            logger.warning(
                result.queued ? "delivery queued" : "delivery failed",
                metadata: ["channel": "\(result.channel)", "ms": "\(result.durationMilliseconds)", "error": "\(result.error ?? "")"])
        }
    }

    static func summarize(_ results: [ChannelResult]) -> DispatchResult {
        let delivered = results.filter(\.ok).map(\.channel)
        let queued = results.filter { !$0.ok && $0.queued }.map(\.channel)
        let failed = results.filter { !$0.ok && !$0.queued }.map(\.channel)
        var parts: [String] = []
        if !delivered.isEmpty { parts.append("Delivered to \(list(delivered))") }
        if !queued.isEmpty { parts.append("\(queued.count) queued for a later retry (\(list(queued)))") }
        if !failed.isEmpty { parts.append("failed: \(list(failed))") }
        let status: DispatchResult.Status
        switch (delivered.isEmpty, queued.isEmpty, failed.isEmpty) {
        case (false, true, true): status = .success
        case (true, false, true): status = .queued
        case (true, _, false): status = .error
        default: status = .partialSuccess
        }
        var message = parts.joined(separator: "; ")
        if status == .error && queued.isEmpty {
            message = failed.count == 1 ? "Not delivered: \(failed[0]) failed" : "Not delivered: all \(failed.count) channels failed (\(list(failed)))"
        }
        return DispatchResult(status: status, message: message.prefix(1).uppercased() + message.dropFirst() + ".", results: results)
    }

    private static func list(_ ids: [ChannelID]) -> String { ids.joined(separator: ", ") }

    static func noChannelMessage(settings: DispatchSettings) -> String {
        var text = "No notification channel is configured. Set one channel's variables in the environment of this server or in ~/.config/mcp-push/config.sh, for example `export BARK_PUSH=<device key>` or `export NTFY_TOPIC=<topic>`; run `mcp-push channels` to see every channel and what it needs."
        if let allowed = settings.allowedChannels {
            text += " (MCP_PUSH_CHANNELS limits sending to: \(allowed.sorted().joined(separator: ", ")).)"
        }
        return text
    }
}

extension ChannelResult {
    static func unavailable(_ id: ChannelID, _ reason: String) -> ChannelResult {
        ChannelResult(channel: id, ok: false, statusCode: nil, error: reason, durationMilliseconds: 0, attempts: 0)
    }
}

extension Duration {
    /// `35 s`, `2 min`.
    var roundedSecondsText: String {
        let seconds = Int((Double(milliseconds) / 1000).rounded(.up))
        return seconds < 120 ? "\(seconds) s" : "\((seconds + 59) / 60) min"
    }
}
