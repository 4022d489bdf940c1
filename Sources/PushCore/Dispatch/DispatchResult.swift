import Foundation

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

    public var status: Status
    public var message: String
    public var results: [ChannelResult]
    /// Set for `notify_event` results.
    public var event: EventSummary?
    /// Problems that did not stop delivery, e.g. history that could not be written.
    public var warnings: [String] = []
    /// Why a `skipped` result was not pushed: `duplicate`, `skip_title` or `event_policy`.
    public var reason: String?

    public init(status: Status, message: String, results: [ChannelResult] = [], event: EventSummary? = nil) {
        self.status = status
        self.message = message
        self.results = results
        self.event = event
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

public struct ChannelResult: Sendable, Equatable {
    public var channel: ChannelID
    public var ok: Bool
    public var statusCode: Int?
    public var error: String?
    public var durationMilliseconds: Int
    public var attempts: Int
    /// Not delivered yet, but waiting in the outbox to be sent in the background.
    public var queued: Bool

    public init(
        channel: ChannelID, ok: Bool, statusCode: Int?, error: String?, durationMilliseconds: Int, attempts: Int,
        queued: Bool = false
    ) {
        self.channel = channel
        self.ok = ok
        self.statusCode = statusCode
        self.error = error
        self.durationMilliseconds = durationMilliseconds
        self.attempts = attempts
        self.queued = queued
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
    /// The result as one line of JSON, keys in reading order (status and message first):
    /// the MCP tools' text content and `--json` output.
    public var jsonText: String {
        var object = OrderedJSONObject()
        object.add("status", status.rawValue)
        object.add("reason", reason)
        object.add("message", message)
        object.add("channels_count", channelsCount)
        object.add("errors", errors)
        object.addRaw("results", "[" + results.map(\.jsonText).joined(separator: ",") + "]")
        if !warnings.isEmpty { object.add("warnings", warnings) }
        if let event {
            object.add("run_id", event.runID)
            object.add("event", event.event)
            object.add("timestamp", event.timestamp)
        }
        return object.text
    }
}

extension ChannelResult {
    public var jsonText: String {
        var object = OrderedJSONObject()
        object.add("channel", channel)
        object.add("ok", ok)
        object.add("status_code", statusCode)
        object.add("error", error)
        object.add("duration_ms", durationMilliseconds)
        object.add("attempts", attempts)
        if queued { object.add("queued", true) }
        return object.text
    }
}

/// A JSON object whose keys keep the order they were added in (Foundation's encoder
/// does not promise any order on Linux). Values are encoded by `JSONEncoder`.
struct OrderedJSONObject {
    private var members: [String] = []
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    mutating func add<Value: Encodable>(_ key: String, _ value: Value?) {
        guard let value, let data = try? Self.encoder.encode(value) else { return }
        addRaw(key, String(decoding: data, as: UTF8.self))
    }

    mutating func addRaw(_ key: String, _ json: String) {
        let encodedKey = (try? Self.encoder.encode(key)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\(key)\""
        members.append("\(encodedKey):\(json)")
    }

    var text: String { "{" + members.joined(separator: ",") + "}" }
}
