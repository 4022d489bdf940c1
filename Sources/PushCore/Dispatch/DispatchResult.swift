import Foundation
import JSONText

/// The outcome of one notification across its channels: what the MCP tools return,
/// what `mcp-push send --json` prints, and what the CLI's table shows.
public struct DispatchResult: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case success
        case partialSuccess = "partial_success"
        case error
        case skipped
        /// Nothing delivered yet, nothing failed for good: every channel's message waits in the outbox.
        case queued
    }

    /// Why a `skipped` result was not pushed.
    public enum SkipReason: String, Sendable, Codable, CaseIterable {
        case duplicate
        case skipTitle = "skip_title"
        case eventPolicy = "event_policy"
        /// No channel takes messages of this level (MCP_PUSH_ROUTES, MCP_PUSH_LEVEL_<ID>).
        case level
    }

    public var status: Status
    public var message: String
    public var results: [ChannelResult]
    /// Set for `notify_event` results.
    public var event: EventSummary?
    /// Problems that did not stop delivery, e.g. history that could not be written.
    public var warnings: [String] = []
    public var reason: SkipReason?

    public init(status: Status, message: String, results: [ChannelResult] = [], event: EventSummary? = nil) {
        self.status = status
        self.message = message
        self.results = results
        self.event = event
    }

    static func skipped(_ reason: SkipReason, _ message: String) -> DispatchResult {
        var result = DispatchResult(status: .skipped, message: message)
        result.reason = reason
        return result
    }

    public var channelsCount: Int { results.count }

    /// Channel id to reason, for every channel that did not deliver (queued ones included).
    public var errors: [ChannelID: String] {
        Dictionary(
            results.compactMap { result in result.ok ? nil : (result.channel, result.error ?? "failed") },
            uniquingKeysWith: { first, _ in first })
    }

    public var isError: Bool { status == .error }
}

/// One channel's part of a notification: how it ended, and what it cost.
///
/// The one outcome shape from a channel's attempts up to the agent: ``Outcome`` says
/// delivered, queued (waiting in the outbox) or failed; the rest is what every outcome has.
public struct ChannelResult: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The service said it accepted the message.
        case delivered
        /// Not delivered yet: outbox item `item` goes out at `until` at the earliest.
        case queued(item: Int64, until: Date, reason: QueueReason, lastError: String?)
        /// Not delivered, and not tried again; `transient` when a later try could have worked.
        case failed(reason: String, transient: Bool)
    }

    public var channel: ChannelID
    public var outcome: Outcome
    /// The service's HTTP status, when it answered.
    public var statusCode: Int?
    public var attempts: Int
    public var durationMilliseconds: Int
    /// The message was cut to the service's size limit.
    public var truncated = false
    /// How many messages the text went as (a long text split on line breaks, e.g. on Telegram).
    public var parts = 1
    /// The service's id of the message sent or edited, where a run's later events can edit it.
    var messageID: String?
    /// The sent message replaced an earlier one of the run (edited in place).
    public var edited = false

    public init(
        channel: ChannelID, outcome: Outcome, statusCode: Int? = nil, attempts: Int, durationMilliseconds: Int,
        truncated: Bool = false
    ) {
        self.channel = channel
        self.outcome = outcome
        self.statusCode = statusCode
        self.attempts = attempts
        self.durationMilliseconds = durationMilliseconds
        self.truncated = truncated
    }

    public var ok: Bool { outcome == .delivered }

    /// Not delivered yet, but waiting in the outbox to be sent in the background.
    public var queued: Bool {
        if case .queued = outcome { return true }
        return false
    }

    /// Left, due now, for a background process to send (a hook's message).
    public var handedOver: Bool {
        if case .queued(_, _, .handedOver, _) = outcome { return true }
        return false
    }

    /// The reason it did not deliver; for a queued delivery, also when it goes out.
    public var error: String? {
        switch outcome {
        case .delivered:
            return nil
        case .failed(let reason, _):
            return reason
        case .queued(_, let until, let reason, let lastError):
            return [lastError, reason.explanation(until: until)].compactMap { $0 }.joined(separator: "; ")
        }
    }
}

/// Why a delivery waits in the outbox.
public enum QueueReason: String, Sendable, Codable, CaseIterable {
    /// Failed transiently until the call's deadline.
    case retry
    /// Held back by the channel's documented rate limit.
    case rateLimit = "rate_limit"
    /// The process stopped while the delivery was under way; another process finishes it.
    case interrupted
    /// Written ahead and left to a background mcp-push process at once (a hook must not wait on the network).
    case handedOver = "handed_over"
    /// Held in the outbox until the quiet hours end (`MCP_PUSH_QUIET_MODE=hold`).
    case quietHours = "quiet_hours"

    func explanation(until: Date, now: Date = Date()) -> String {
        let wait = until.timeIntervalSince(now)
        let when = wait < 1 ? "now" : "in \(Duration.seconds(wait).roundedSecondsText)"
        switch self {
        case .retry: return "queued for retry in the background, next try \(when)"
        case .rateLimit: return wait < 1 ? "queued, goes out in order as the limit allows" : "queued, goes out \(when)"
        case .interrupted: return "interrupted; queued, the next mcp-push process to run sends it"
        case .handedOver: return "handed to a background mcp-push process, which sends it \(when)"
        case .quietHours: return "held for the quiet hours; goes out when they end, \(when)"
        }
    }
}

/// The event fields `notify_event` adds to its result.
public struct EventSummary: Sendable, Equatable {
    public var runID: String
    public var event: String
    public var timestamp: String

    public init(runID: String, event: String, timestamp: String) {
        self.runID = runID
        self.event = event
        self.timestamp = timestamp
    }
}

extension DispatchResult {
    /// The result with its keys in reading order (status and message first): the MCP
    /// tools' text content and `structuredContent`, and `--json` output, all come from this.
    public var json: OrderedJSON {
        var members: [(String, OrderedJSON)] = [("status", .string(status.rawValue))]
        if let reason { members.append(("reason", .string(reason.rawValue))) }
        members.append(("message", .string(message)))
        members.append(("channels_count", .int(channelsCount)))
        members.append(("errors", .object(errors.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        members.append(("results", .array(results.map(\.json))))
        if !warnings.isEmpty { members.append(("warnings", .array(warnings.map(OrderedJSON.string)))) }
        if let event {
            members.append(("run_id", .string(event.runID)))
            members.append(("event", .string(event.event)))
            members.append(("timestamp", .string(event.timestamp)))
        }
        return .object(members)
    }

    /// ``json`` as one line of text.
    public var jsonText: String { json.text }
}

extension ChannelResult {
    public var json: OrderedJSON {
        var members: [(String, OrderedJSON)] = [("channel", .string(channel)), ("ok", .bool(ok))]
        if let statusCode { members.append(("status_code", .int(statusCode))) }
        if let error { members.append(("error", .string(error))) }
        members.append(("duration_ms", .int(durationMilliseconds)))
        members.append(("attempts", .int(attempts)))
        if queued { members.append(("queued", .bool(true))) }
        if truncated { members.append(("truncated", .bool(true))) }
        if parts > 1 { members.append(("parts", .int(parts))) }
        if edited { members.append(("edited", .bool(true))) }
        return .object(members)
    }
}
