import Crypto
import Foundation
import Logging
import Synchronization

/// The core's front door, shared by the MCP tools, the CLI and the hooks: validated input
/// in, a ``DispatchResult`` out, with history, duplicate detection and the outbox around
/// the dispatcher.
public final class Notifier: Sendable {
    package let setup: ChannelSetup
    let dispatcher: Dispatcher
    let eventPolicy: EventPolicy
    package let redactor: Redactor
    let retentionDays: Int
    package let http: HTTPService
    package let logger: Logger
    /// Opened in the background at start-up, so answering `initialize` never waits for SQLite.
    private let storeTask: Task<any StateStore, Never>
    /// True in a long-running server, whose worker drains even an in-memory outbox.
    private let worksOutbox: Bool
    private let inFlight = InFlightCalls()

    public enum StoreLocation: Sendable, Equatable {
        /// `$MCP_PUSH_STATE_DIR` or its default: shared with every mcp-push process.
        case shared
        case directory(String)
        /// This process only.
        case memory
    }

    /// Builds every channel from `configuration`. Throws only for global settings that
    /// are unusable (`MCP_PUSH_TIMEOUT=abc`); a bad channel is reported per channel.
    public init(
        configuration: Configuration, redactor: Redactor = Redactor(), logger: Logger = Logger(label: "mcp-push"),
        store location: StoreLocation = .memory, worksOutbox: Bool = false
    ) throws(ConfigurationError) {
        self.redactor = redactor
        self.logger = logger
        self.worksOutbox = worksOutbox
        let setup = ChannelSetup(configuration: configuration)
        setup.secrets.forEach(redactor.register)
        self.setup = setup
        let http = HTTPService()
        self.http = http
        self.eventPolicy = try EventPolicy(configuration: configuration)
        self.retentionDays = try configuration.int("MCP_PUSH_RETENTION_DAYS", in: 1...3650) ?? 30
        self.dispatcher = Dispatcher(
            setup: setup, settings: try DispatchSettings(configuration: configuration),
            http: http, redactor: redactor, logger: logger)
        let directory: String?
        switch location {
        case .shared: directory = Store.directory(configuration: configuration)
        case .directory(let path): directory = path
        case .memory: directory = nil
        }
        // MCP_PUSH_DATABASE_URL: the state in PostgreSQL, shared by gateways side by side (not for a private store).
        let database = location == .memory ? nil : try DatabaseSettings(configuration: configuration)
        if let password = database?.password { redactor.register(password) }
        let retentionDays = self.retentionDays
        let patience = dispatcher.settings.deadline
        // A server does not start the HTTP client ahead of its first call: on two cores, doing it while the
        // client initializes made both `initialize` and the first send slower (docs/PERFORMANCE.md).
        storeTask = Task.detached {
            if let database {
                do {
                    let store = try await PostgresStore.connect(database, logger: logger)
                    try? await store.prune(retentionDays: retentionDays, now: Date(), interval: 3600)
                    return store
                } catch {
                    let reason = "\(database.redactedURL): \(redactor.redact(String(describing: error)))"
                    logger.warning("shared state unavailable, keeping it in memory for this process: \(reason)")
                    return SQLiteStore.inMemory(problem: reason)
                }
            }
            return await onOwnThread(yielding: true) { () -> any StateStore in
                guard let directory else { return SQLiteStore.inMemory() }
                let store = SQLiteStore.open(directory: directory, logger: logger, patience: patience)
                try? store.prune(retentionDays: retentionDays, interval: 3600)
                return store
            }
        }
    }

    package var store: any StateStore {
        get async { await storeTask.value }
    }

    /// Where the shared state lives and its schema version, once opened (and so migrated); the
    /// problem when it could not be used.
    public func storeStatus() async -> (location: String, schemaVersion: Int?, problem: String?) {
        let store = await store
        return (store.location, try? await store.schemaVersion(), store.problem)
    }

    /// Why the shared store could not be used (history then lives in memory for this process), or nil.
    public var storeProblem: String? {
        get async { await store.problem }
    }

    var outbox: Outbox {
        get async {
            let store = await store
            return Outbox(
                store: store, isWorked: store.isPersistent || worksOutbox, settings: dispatcher.settings, redactor: redactor,
                logger: logger)
        }
    }

    // MARK: What the process is set up with

    /// The ids of the channels this process can send to, in catalogue order.
    public var configuredChannels: [ChannelID] { setup.configured.map(\.id) }

    /// How long one call may take, retries included (`MCP_PUSH_DEADLINE`).
    public var callDeadline: Duration { dispatcher.settings.deadline }

    /// Routes, minimums, fallback and quiet hours in words (empty when none are set).
    public var deliveryRules: [String] {
        var lines = dispatcher.settings.routing.summary
        if let quiet = dispatcher.settings.quietHours {
            lines.append("quiet hours \(quiet.text) (\(quiet.mode == .hold ? "held until they end" : "sent silently"), below critical)")
        }
        return lines
    }

    /// How long one attempt may take (`MCP_PUSH_TIMEOUT`).
    public var attemptTimeout: Duration { dispatcher.settings.timeout }

    /// Gets the HTTP client ready in the background (its event loops and pool), so that a command
    /// about to send does so while the store opens rather than after.
    public func prepareToSend() {
        guard !setup.configured.isEmpty else { return }
        Task.detached(priority: .userInitiated) { [http] in await onOwnThread { http.prepare() } }
    }

    /// `text` with every configured secret masked.
    public func redact(_ text: String) -> String { redactor.redact(text) }

    // MARK: Notifying

    /// Called as each channel finishes, with the channels still waiting (for progress reports).
    public typealias Progress = @Sendable (_ finished: ChannelResult, _ waiting: [ChannelID]) -> Void

    /// `notify_send`: one message to the configured (or the named) channels.
    /// `runID` files the notification under a run (an agent session's, for the hooks).
    /// `handOver`: written ahead and left, due now, for a background process to send (the hooks).
    public func send(
        title: String, content: String, channels: [ChannelID]? = nil, runID: String? = nil, progress: Progress? = nil,
        handOver: Bool = false, url: String? = nil, level: Level = .info, format: Format = .text
    ) async throws(InputError) -> DispatchResult {
        let title = try InputError.requireText(title, field: "title")
        let content = try InputError.requireText(content, field: "content")
        let channels = try InputError.validateChannels(channels)
        let url = try InputError.validateURL(url)
        return await inFlight.run { [self] in
            await notify(
                Message(title: title, body: content, url: url, level: level, format: format), channels: channels, runID: runID, progress: progress, handOver: handOver)
        }
    }

    /// Records a run event without pushing anything (an agent's turn starting, say) and
    /// returns the run as it stood before; nil when the run is new or the store failed.
    public func recordOnly(_ event: RunEvent) async -> RunRecord? {
        do {
            return try await store.record(event)
        } catch {
            logger.warning("run history not recorded: \(redactor.redact(String(describing: error)))")
            return nil
        }
    }

    /// `notify_event`: records the event, then pushes it if the event policy says so.
    public func event(
        _ event: RunEvent, channels: [ChannelID]? = nil, progress: Progress? = nil
    ) async throws(InputError) -> DispatchResult {
        try event.validate()
        let channels = try InputError.validateChannels(channels)
        return await inFlight.run { [self] in await record(event, channels: channels, progress: progress) }
    }

    private func record(_ event: RunEvent, channels: [ChannelID]?, progress: Progress?) async -> DispatchResult {
        let store = await store
        var warnings: [String] = []
        var previous: RunRecord?
        do {
            previous = try await store.record(event)
        } catch {
            warnings.append("run history not recorded: \(redactor.redact(String(describing: error)))")
        }
        let summary = EventSummary(runID: event.runID, event: event.kind.rawValue, timestamp: event.timestampText)
        guard eventPolicy.pushed.contains(event.kind) else {
            let pushed = RunEvent.Kind.allCases.filter(eventPolicy.pushed.contains).map(\.rawValue).joined(separator: ", ")
            var result = DispatchResult.skipped(
                .eventPolicy,
                "Recorded, not pushed: \(event.kind.rawValue) events are not pushed (pushed: \(pushed.isEmpty ? "none" : pushed)). Set \(EventPolicy.variable)=all (or a comma list such as start,end,error) to push them.")
            result.event = summary
            result.warnings = warnings + storeWarnings(store)
            return result
        }
        var elapsed: Duration?
        if event.kind.isFinal, let startedAt = previous?.startedAt, event.timestamp >= startedAt {
            elapsed = .milliseconds(Int64(event.timestamp.timeIntervalSince(startedAt) * 1000))
        }
        let message = EventFormatter.message(for: event, elapsed: elapsed, lastProgress: previous?.lastProgress)
        // One message per run where the service can edit: a start sends it, what follows edits it.
        let editing = event.kind == .start ? [:] : (try? await store.runMessages(event.runID)) ?? [:]
        var result = await notify(message, channels: channels, runID: event.runID, progress: progress, thread: editing)
        result.event = summary
        result.warnings = warnings + result.warnings
        return result
    }

    /// `thread`: set for a run's events, the run's messages (by target) this one edits; the messages
    /// it sends become the run's (nil: a message of its own, as `notify_send` and the hooks send).
    private func notify(
        _ message: Message, channels: [ChannelID]?, runID: String?, progress: Progress?, handOver: Bool = false,
        thread: [String: String]? = nil
    ) async -> DispatchResult {
        let store = await store
        var warnings = storeWarnings(store)
        let window = dispatcher.settings.duplicateWindow
        let digest = Store.digest(of: message, channels: channels)
        if window > .zero, (try? await store.isDuplicate(digest, window: window)) == true {
            var result = DispatchResult.skipped(
                .duplicate,
                "Not pushed: the same title and content were pushed less than \(window.secondsText) ago (duplicate). Set MCP_PUSH_DEDUP_SECONDS=0 to allow repeats.")
            result.warnings = warnings
            return result
        }
        let outbox = await outbox
        var dispatches = [
            await dispatcher.dispatch(
                message, to: channels, outbox: outbox, runID: runID, progress: progress, handOver: handOver, digest: digest,
                editing: thread ?? [:])
        ]
        var result = dispatches[0].result
        // Every chosen channel failed for good (nothing delivered, nothing waiting): the fallback channels get it.
        let backups = channels == nil ? dispatcher.fallback(after: result.results) : []
        if !backups.isEmpty, result.status == .error, !result.results.isEmpty, result.results.allSatisfy({ !$0.ok && !$0.queued }) {
            let second = await dispatcher.dispatch(
                message, to: backups, outbox: outbox, runID: runID, progress: progress, handOver: handOver, digest: digest)
            dispatches.append(second)
            var combined = Dispatcher.summarize(result.results + second.result.results)
            combined.message += " Fell back to \(backups.joined(separator: ", ")) (\(Routing.fallbackVariable)) after the others failed."
            combined.warnings = result.warnings + second.result.warnings
            result = combined
        }
        if let runID, thread != nil {
            let sent = result.results.compactMap { result in
                result.messageID.flatMap { id in setup.target(ofChannel: result.channel).map { ($0.fingerprint, id) } }
            }
            do {
                try await store.rememberRunMessages(runID, Dictionary(sent, uniquingKeysWith: { $1 }))
            } catch {
                warnings.append("the run's message ids not recorded (later events send new messages): \(redactor.redact(String(describing: error)))")
            }
        }
        do {
            let reached = result.results.contains(where: { $0.ok || $0.queued })
            for dispatch in dispatches where !dispatch.result.results.isEmpty && !dispatch.recorded {
                _ = try await store.record(
                    dispatch.result, title: message.title, runID: runID, notificationID: dispatch.notificationID,
                    rememberingDigest: reached ? digest : nil, settling: dispatch.settlements)
            }
        } catch {
            warnings.append("history not recorded: \(redactor.redact(String(describing: error)))")
        }
        result.warnings = warnings + result.warnings
        for warning in result.warnings { logger.warning("\(warning)") }
        return result
    }

    private func storeWarnings(_ store: any StateStore) -> [String] {
        store.problem.map { ["history not recorded: \($0); kept in memory for this process only"] } ?? []
    }

    // MARK: The outbox

    /// Sends what is due in the outbox and this process's channels can send, once; reports
    /// what has expired, whoever queued it.
    @discardableResult
    public func workOutbox(now: Date = Date()) async -> OutboxPass {
        await outbox.work(setup, sender: dispatcher.singleAttempt, now: now)
    }

    /// Works the outbox until cancelled: what a server runs in the background.
    public func runOutboxWorker(interval: Duration = .seconds(2)) async {
        while !Task.isCancelled {
            let pass = await workOutbox()
            try? await Task.sleep(for: pass.touched > 0 ? .milliseconds(200) : interval)
        }
    }

    /// Works the outbox until nothing this process can send waits in it (delivered, failed
    /// for good or expired), sleeping until the next item is due: what the background
    /// flusher a CLI send leaves behind runs. Returns the total of its passes.
    public func drainOutbox(longestSleep: Duration = .seconds(60)) async -> OutboxPass {
        var total = OutboxPass()
        let outbox = await outbox
        while !Task.isCancelled {
            total.add(await workOutbox())
            guard let next = await outbox.nextDue(setup) else { break }
            let wait = min(longestSleep, .seconds(max(0.05, next.timeIntervalSinceNow)))
            do { try await Task.sleep(for: wait) } catch { break }
        }
        return total
    }

    /// Whether something this process can send waits in the outbox.
    public func hasSendableOutboxItems() async -> Bool {
        let outbox = await outbox
        guard outbox.store.isPersistent else { return false }
        return await outbox.nextDue(setup) != nil
    }

    /// This process is about to exit and another continues its work: see
    /// ``StateStore/handOverToNextProcess()``.
    public func handsOverItsState() async {
        await store.handOverToNextProcess()
    }

    /// Names this process's set of outbox targets (for one background flusher per configuration).
    public var outboxTargetsKey: String {
        let fingerprints = setup.outboxTargets.map(\.fingerprint).sorted().joined(separator: ",")
        return String(Store.hex(SHA256.hash(data: Array(fingerprints.utf8))).prefix(16))
    }

    // MARK: Stopping

    /// Ends the calls still under way: their attempts are cancelled and each delivery still
    /// in flight is queued for the next process (never dropped), within `grace`.
    public func interruptCalls(grace: Duration = .seconds(3)) async {
        await inFlight.interrupt(grace: grace)
    }

    /// Closes network connections; call once before the process exits, after the calls ended.
    public func shutdown() async {
        await inFlight.interrupt(grace: .seconds(3))
        await http.shutdown()
    }
}

/// The calls under way in this process, so that stopping can interrupt them and wait until
/// each has queued what it could not deliver.
final class InFlightCalls: Sendable {
    private struct State {
        var next = 0
        // A list, not a dictionary: a few entries at a time, and a dictionary keyed by Int costs every
        // process a run-time conformance lookup on first use (about 0.15 ms).
        var cancels: [(id: Int, cancel: @Sendable () -> Void)] = []
        var stopping = false
    }

    private let state = Mutex(State())

    /// Runs `body` as its own task, cancelled by ``interrupt(grace:)`` (or by the caller).
    func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await body() }
        let id = state.withLock { state -> Int? in
            guard !state.stopping else { return nil }
            state.next += 1
            state.cancels.append((state.next, { task.cancel() }))
            return state.next
        }
        if id == nil { task.cancel() }
        let value = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        if let id { state.withLock { $0.cancels.removeAll { $0.id == id } } }
        return value
    }

    func interrupt(grace: Duration) async {
        let cancels = state.withLock { state in
            state.stopping = true
            return state.cancels.map(\.cancel)
        }
        cancels.forEach { $0() }
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while state.withLock({ !$0.cancels.isEmpty }) && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Input a caller got wrong: the message names the field and what is allowed.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let description: String

    public init(field: String, _ description: String) {
        self.field = field
        self.description = description
    }

    static func requireText(_ value: String, field: String) throws(InputError) -> String {
        guard !value.trimmingWhitespace().isEmpty else {
            throw InputError(field: field, "'\(field)' must not be empty")
        }
        return value
    }

    /// A link to open: an absolute http(s) URL of reasonable length, on one line.
    static func validateURL(_ url: String?) throws(InputError) -> String? {
        guard let url else { return nil }
        guard url.utf8.count <= 2048, !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }),
            let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            parsed.host?.isEmpty == false
        else {
            throw InputError(field: "url", "'url' must be an http:// or https:// URL on one line, at most 2048 bytes")
        }
        return url
    }

    static func validateChannels(_ channels: [ChannelID]?) throws(InputError) -> [ChannelID]? {
        guard let channels else { return nil }
        guard !channels.isEmpty else {
            throw InputError(field: "channels", "'channels' must name at least one channel, or be left out to use every configured channel")
        }
        let unknown = channels.filter { ChannelCatalogue.descriptor(for: $0) == nil }
        guard unknown.isEmpty else {
            throw InputError(
                field: "channels",
                "unknown channel \(unknown.map { "'\($0)'" }.joined(separator: ", ")) in 'channels'; allowed: \(ChannelCatalogue.ids.joined(separator: ", "))")
        }
        return channels
    }
}
