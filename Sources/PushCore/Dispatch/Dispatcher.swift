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
    /// Channels by level, when a call names none.
    var routing = Routing()
    /// Hours in which messages below critical go silently or wait.
    var quietHours: QuietHours?

    public init() {}

    public init(configuration: Configuration) throws(ConfigurationError) {
        if let timeout = try configuration.seconds("MCP_PUSH_TIMEOUT", in: 0.1...300) { self.timeout = timeout }
        if let retries = try configuration.int("MCP_PUSH_RETRIES", in: 0...10) { retry.retries = retries }
        if let deadline = try configuration.seconds("MCP_PUSH_DEADLINE", in: 0.1...3600) { self.deadline = deadline }
        if let maximumAge = try configuration.seconds("MCP_PUSH_OUTBOX_MAX_AGE", in: 1...2_592_000) { outboxMaximumAge = maximumAge }
        if let window = try configuration.int("MCP_PUSH_DEDUP_SECONDS", in: 0...86_400) { duplicateWindow = .seconds(window) }
        routing = try Routing(configuration: configuration)
        quietHours = try QuietHours(configuration: configuration)
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
/// limit, written ahead to the outbox, held there when the channel's rate limit is reached,
/// and retried while it fails transiently and the call's deadline allows; what still fails
/// transiently at the deadline waits in the outbox. The call takes as long as the slowest
/// channel, capped at the deadline.
struct Dispatcher: Sendable {
    let setup: ChannelSetup
    let settings: DispatchSettings
    let http: HTTPService
    let redactor: Redactor
    let logger: Logger

    /// Called as each channel finishes, with the channels still waiting.
    typealias Progress = @Sendable (_ finished: ChannelResult, _ waiting: [ChannelID]) -> Void

    /// A dispatch's result, the notification it wrote ahead, and how its outbox items end.
    struct Dispatch: Sendable {
        var result: DispatchResult
        var notificationID: Int64?
        var settlements: [(item: Int64, OutboxSettlement)] = []
        /// Already in the history (a hand-over records itself as it writes ahead).
        var recorded = false
    }

    /// One channel's attempts, for the outbox worker: no retries, one attempt's time.
    var singleAttempt: RetryingDelivery {
        RetryingDelivery(policy: RetryPolicy(retries: 0), attemptTimeout: settings.timeout, context: context)
    }

    private var context: DeliveryContext {
        DeliveryContext(http: http, timeout: settings.timeout, redactor: redactor, logger: logger)
    }

    /// Delivers `message` to the configured channels, or to `requested` ones only.
    /// Callers validate that requested ids exist (``InputError``).
    /// `handOver`: no attempt here; each delivery written ahead waits, due now, for a background
    /// process (when the store is the shared file and takes it; otherwise it is sent here as usual).
    /// Nothing being attempted, no progress is reported.
    /// `editing`: the run's messages, by target, that this message replaces where the service can edit.
    /// `digest`: remembered for duplicate detection by a hand-over, which records itself.
    func dispatch(
        _ message: Message, to requested: [ChannelID]? = nil, outbox: Outbox, runID: String? = nil, progress: Progress? = nil,
        handOver: Bool = false, digest: String? = nil, editing: [String: String] = [:]
    ) async -> Dispatch {
        if settings.skippedTitles.contains(message.title.trimmingWhitespace()) {
            return Dispatch(result: .skipped(.skipTitle, "Not pushed: the title is listed in SKIP_PUSH_TITLE."))
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
                    unavailable.append(.unavailable(id, "misconfigured: \(redactor.redact(problem.description))"))
                } else {
                    misconfigured.append("\(id) (\(redactor.redact(problem.description)))")
                }
            case .off:
                if requested != nil {
                    let required = entry.descriptor.variables.filter(\.isRequired).map(\.name)
                    unavailable.append(.unavailable(id, "not configured: set \(required.joined(separator: " and "))"))
                }
            }
        }

        // Without named channels, the level chooses among the configured ones (routes, each channel's minimum).
        if requested == nil, !targets.isEmpty {
            let chosen = settings.routing.channels(for: message.level, among: targets.map(\.id))
            targets = targets.filter { chosen.contains($0.id) }
            if targets.isEmpty {
                return Dispatch(result: .skipped(
                    .level,
                    "Not pushed: no configured channel takes \(message.level.rawValue) messages (\(Routing.routesVariable), MCP_PUSH_LEVEL_<ID>)."))
            }
        }

        var note = misconfigured.isEmpty
            ? "" : " Not sent to misconfigured channels: \(misconfigured.joined(separator: "; ")); see `mcp-push channels`."
        // Quiet hours: below critical, sent without sound, or held in the outbox until they end (only where
        // someone will send it then; otherwise silently now).
        var message = message
        var heldUntil: Date?
        let now = Date()
        if let quiet = settings.quietHours, quiet.applies(to: message.level, at: now) {
            if quiet.mode == .hold, outbox.isWorked {
                heldUntil = quiet.end(after: now)
                note += " Held for the quiet hours (\(quiet.text), \(QuietHours.variable)); sent when they end."
            } else {
                message.silent = true
                note += " Sent silently: quiet hours \(quiet.text) (\(QuietHours.variable))."
            }
        }
        if targets.isEmpty && unavailable.isEmpty {
            return Dispatch(result: DispatchResult(status: .error, message: Self.noChannelMessage(settings: settings) + note))
        }

        // Each channel gets the message cut to its service's limit, written ahead in one transaction.
        let fitted = targets.map { channel in
            var fitted = message.prepared(for: type(of: channel).descriptor)
            fitted.replacing = editing[setup.target(of: channel).fingerprint]
            return fitted
        }
        let planned = zip(targets, fitted).map { channel, message in
            var target = setup.target(of: channel)
            // Held back for its rate limit, a message must wait where someone will send it.
            if !outbox.isWorked { target.rateLimits = [] }
            return Store.PlannedDelivery(target: target, message: message)
        }
        // Handed over (a hook): nothing is sent here, so the write-ahead is the record too. Without the
        // shared store, or when it just failed (locked past its timeout, full), the message is sent here
        // at once, without trying the store a second time within the hook's deadline.
        let deliveries = Array(zip(targets, fitted))
        let begun: (notificationID: Int64, items: [ChannelID: (item: Int64, admission: Admission)])?
        if handOver && outbox.store.isPersistent {
            let handed = await outbox.handOver(
                planned, title: message.title, runID: runID, digest: digest,
                outcome: { [self, message, heldUntil, unavailable, note] items in
                    let waiting = deliveries.compactMap { channel, fitted in
                        waitingOutcome(of: channel, planned: items[channel.id], handOver: true, heldUntil: heldUntil).map {
                            var outcome = $0
                            outcome.result.truncated = Self.isCut(fitted, from: message, for: channel)
                            return outcome
                        }
                    }
                    return (summary(of: waiting.map(\.result), unavailable: unavailable, note: note), waiting.compactMap(\.settlement))
                })
            if let handed {
                handed.result.results.filter { $0.queued }.forEach(log)  // what was asked, as deliveries log theirs
                return Dispatch(result: handed.result, notificationID: handed.notificationID, recorded: true)
            }
            begun = nil
        } else {
            begun = await outbox.begin(planned, title: message.title, runID: runID)
        }
        var results: [ChannelResult] = []
        var settlements: [(item: Int64, OutboxSettlement)] = []
        for outcome in await deliver(
            deliveries, original: message, plan: begun?.items ?? [:], outbox: outbox, progress: progress, heldUntil: heldUntil)
        {
            results.append(outcome.result)
            if let settlement = outcome.settlement { settlements.append(settlement) }
        }
        return Dispatch(
            result: summary(of: results, unavailable: unavailable, note: note), notificationID: begun?.notificationID, settlements: settlements)
    }

    /// The call's result: its channels' results and those it could not ask, in catalogue order, with the notes.
    private func summary(of results: [ChannelResult], unavailable: [ChannelResult], note: String) -> DispatchResult {
        let order = Dictionary(uniqueKeysWithValues: setup.entries.enumerated().map { ($1.descriptor.id, $0) })
        let all = (results + unavailable).sorted { order[$0.channel, default: 0] < order[$1.channel, default: 0] }
        var summary = Self.summarize(all)
        summary.message += note
        return summary
    }

    /// Cut, not merely marked or given its link: the service did not get the whole text.
    private static func isCut(_ message: Message, from original: Message, for channel: any Channel) -> Bool {
        var whole = original.prepared(for: type(of: channel).descriptor, cutting: false)
        whole.replacing = message.replacing
        return message != whole
    }

    private struct Outcome: Sendable {
        var result: ChannelResult
        var settlement: (item: Int64, OutboxSettlement)?
    }

    private func deliver(
        _ targets: [(any Channel, Message)], original: Message, plan: [ChannelID: (item: Int64, admission: Admission)],
        outbox: Outbox, progress: Progress?, heldUntil: Date?
    ) async -> [Outcome] {
        let retrying = RetryingDelivery(policy: settings.retry, attemptTimeout: settings.timeout, context: context)
        let deadline = ContinuousClock.now + settings.deadline
        return await withTaskGroup(of: Outcome.self) { group in
            for (channel, message) in targets {
                let planned = plan[channel.id]
                group.addTask {
                    var outcome = await deliver(
                        message, via: channel, planned: planned, retrying: retrying, deadline: deadline, outbox: outbox, heldUntil: heldUntil)
                    outcome.result.truncated = Self.isCut(message, from: original, for: channel)
                    log(outcome.result)
                    return outcome
                }
            }
            var outcomes: [Outcome] = []
            var waiting = targets.map(\.0.id)
            for await outcome in group {
                outcomes.append(outcome)
                waiting.removeAll { $0 == outcome.result.channel }
                progress?(outcome.result, waiting)
            }
            return outcomes
        }
    }

    private func deliver(
        _ message: Message, via channel: any Channel, planned: (item: Int64, admission: Admission)?, retrying: RetryingDelivery,
        deadline: ContinuousClock.Instant, outbox: Outbox, heldUntil: Date?
    ) async -> Outcome {
        if let waiting = waitingOutcome(of: channel, planned: planned, handOver: false, heldUntil: heldUntil) { return waiting }
        let attempts = await retrying.deliver(message, via: channel, deadline: deadline)
        guard let planned else { return Outcome(result: attempts.result) }
        let (result, settlement) = outbox.settle(attempts, item: planned.item)
        return Outcome(result: result, settlement: (planned.item, settlement))
    }

    /// A delivery that waits in the outbox instead of being attempted now (held for the quiet hours,
    /// behind its rate limit, or handed over); nil when it goes now.
    private func waitingOutcome(
        of channel: any Channel, planned: (item: Int64, admission: Admission)?, handOver: Bool, heldUntil: Date?
    ) -> Outcome? {
        guard let planned else { return nil }
        if let heldUntil {
            let held = ChannelResult(
                channel: channel.id, outcome: .queued(item: planned.item, until: heldUntil, reason: .quietHours, lastError: nil),
                attempts: 0, durationMilliseconds: 0)
            return Outcome(result: held, settlement: (planned.item, .reschedule(at: heldUntil, attempts: 0, lastError: nil, reason: .quietHours)))
        }
        // Flood control: the message waits in the outbox, behind anything already waiting, rather than exceed the limit.
        switch planned.admission {
        case .send:
            break
        case .queueBehind:
            let queued = ChannelResult(
                channel: channel.id, outcome: .queued(item: planned.item, until: Date(), reason: .rateLimit, lastError: "queued behind earlier messages waiting for \(channel.id)'s rate limit"),
                attempts: 0, durationMilliseconds: 0)
            return Outcome(result: queued)
        case .wait(let until, let limit):
            let queued = ChannelResult(
                channel: channel.id, outcome: .queued(item: planned.item, until: until, reason: .rateLimit, lastError: "rate limit of \(limit) reached"),
                attempts: 0, durationMilliseconds: 0)
            return Outcome(result: queued)
        }
        if handOver {
            let now = Date()
            let waiting = ChannelResult(
                channel: channel.id, outcome: .queued(item: planned.item, until: now, reason: .handedOver, lastError: nil),
                attempts: 0, durationMilliseconds: 0)
            return Outcome(result: waiting, settlement: (planned.item, .reschedule(at: now, attempts: 0, lastError: nil, reason: .handedOver)))
        }
        return nil
    }

    private func log(_ result: ChannelResult) {
        DeliveryMetrics.record(result)
        if case .queued(_, _, .handedOver, _) = result.outcome {
            logger.debug("delivery handed over", metadata: ["channel": "\(result.channel)"])
            return
        }
        if result.ok {
            logger.info("delivered", metadata: ["channel": "\(result.channel)", "ms": "\(result.durationMilliseconds)", "attempts": "\(result.attempts)"])
        } else {
            logger.warning(
                result.queued ? "delivery queued" : "delivery failed",
                metadata: ["channel": "\(result.channel)", "ms": "\(result.durationMilliseconds)", "error": "\(result.error ?? "")"])
        }
    }

    /// The fallback channels this process can send to that were not already tried.
    func fallback(after results: [ChannelResult]) -> [ChannelID] {
        let tried = Set(results.map(\.channel))
        let configured = Set(setup.configured.map(\.id))
        return settings.routing.fallback.filter { configured.contains($0) && !tried.contains($0) }
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
        ChannelResult(channel: id, outcome: .failed(reason: reason, transient: false), attempts: 0, durationMilliseconds: 0)
    }
}

extension Duration {
    /// `35 s`, `2 min`.
    public var roundedSecondsText: String {
        let seconds = Int((Double(milliseconds) / 1000).rounded(.up))
        return seconds < 120 ? "\(seconds) s" : "\((seconds + 59) / 60) min"
    }
}
