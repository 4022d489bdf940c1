import Foundation
import Logging

/// The core's front door, shared by the MCP tools and the CLI: validated input in,
/// a ``DispatchResult`` out, with history, duplicate detection and the outbox around
/// the ``Dispatcher``.
public final class Notifier: Sendable {
    public let configuration: Configuration
    public let setup: ChannelSetup
    public let dispatcher: Dispatcher
    public let eventPolicy: EventPolicy
    public let redactor: Redactor
    public let retentionDays: Int
    let http: HTTPService
    let logger: Logger
    /// Opened in the background at start-up, so answering `initialize` never waits for SQLite.
    private let storeTask: Task<Store, Never>
    /// True in a long-running server, whose worker drains even an in-memory outbox.
    private let worksOutbox: Bool

    public enum StoreLocation: Sendable {
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
        self.configuration = configuration
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
        let retentionDays = self.retentionDays
        if worksOutbox, !setup.configured.isEmpty {
            // A server will be asked to notify: get the HTTP client ready while the client initializes.
            Task.detached(priority: .utility) { http.prepare() }
        }
        storeTask = Task.detached {
            guard let directory else { return Store.inMemory() }
            let store = Store.open(directory: directory, logger: logger)
            try? store.prune(retentionDays: retentionDays)
            return store
        }
    }

    public var store: Store {
        get async { await storeTask.value }
    }

    /// `notify_send`: one message to the configured (or the named) channels.
    public func send(title: String, content: String, channels: [ChannelID]? = nil) async throws(InputError) -> DispatchResult {
        let title = try InputError.requireText(title, field: "title")
        let content = try InputError.requireText(content, field: "content")
        let channels = try InputError.validateChannels(channels)
        return await notify(Message(title: title, body: content), channels: channels, runID: nil)
    }

    /// `notify_event`: records the event, then pushes it if the event policy says so.
    public func event(_ event: RunEvent, channels: [ChannelID]? = nil) async throws(InputError) -> DispatchResult {
        _ = try InputError.requireText(event.runID, field: "run_id")
        _ = try InputError.requireText(event.message, field: "message")
        let channels = try InputError.validateChannels(channels)
        let store = await store
        var warnings: [String] = []
        var previous: RunRecord?
        do {
            previous = try store.record(event)
        } catch {
            warnings.append("run history not recorded: \(redactor.redact(String(describing: error)))")
        }
        let summary = EventSummary(runID: event.runID, event: event.kind.rawValue, timestamp: event.timestampText)
        guard eventPolicy.pushed.contains(event.kind) else {
            let pushed = RunEvent.Kind.allCases.filter(eventPolicy.pushed.contains).map(\.rawValue).joined(separator: ", ")
            var result = DispatchResult(
                status: .skipped,
                message: "Recorded, not pushed: \(event.kind.rawValue) events are not pushed (pushed: \(pushed.isEmpty ? "none" : pushed)). Set \(EventPolicy.variable)=all (or a comma list such as start,end,error) to push them.",
                event: summary)
            result.reason = "event_policy"
            result.warnings = warnings + storeWarnings(store)
            return result
        }
        var elapsed: Duration?
        if event.kind.isFinal, let startedAt = previous?.startedAt, event.timestamp >= startedAt {
            elapsed = .milliseconds(Int64(event.timestamp.timeIntervalSince(startedAt) * 1000))
        }
        let message = EventFormatter.message(for: event, elapsed: elapsed, lastProgress: previous?.lastProgress)
        var result = await notify(message, channels: channels, runID: event.runID)
        result.event = summary
        result.warnings = warnings + result.warnings
        return result
    }

    private func notify(_ message: Message, channels: [ChannelID]?, runID: String?) async -> DispatchResult {
        let store = await store
        var warnings = storeWarnings(store)
        let window = dispatcher.settings.duplicateWindow
        let digest = Store.digest(of: message, channels: channels)
        if window > .zero, (try? store.isDuplicate(digest, window: window)) == true {
            var result = DispatchResult(
                status: .skipped,
                message: "Not pushed: the same title and content were pushed less than \(window.secondsText) ago (duplicate). Set MCP_PUSH_DEDUP_SECONDS=0 to allow repeats.")
            result.reason = "duplicate"
            result.warnings = warnings
            return result
        }
        let outbox = store.isPersistent || worksOutbox ? Dispatcher.Outbox(store: store) : nil
        let dispatch = await dispatcher.dispatch(message, to: channels, outbox: outbox)
        var result = dispatch.result
        do {
            if !result.results.isEmpty {
                let reached = result.results.contains(where: { $0.ok || $0.queued })
                try store.record(
                    result, title: message.title, runID: runID, rememberingDigest: reached ? digest : nil,
                    outboxItems: dispatch.outboxItems)
            }
        } catch {
            warnings.append("history not recorded: \(redactor.redact(String(describing: error)))")
        }
        result.warnings = warnings + result.warnings
        for warning in result.warnings { logger.warning("\(warning)") }
        return result
    }

    private func storeWarnings(_ store: Store) -> [String] {
        store.problem.map { ["history not recorded: \($0); kept in memory for this process only"] } ?? []
    }

    /// Closes network connections; call once before the process exits.
    public func shutdown() async {
        await http.shutdown()
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
