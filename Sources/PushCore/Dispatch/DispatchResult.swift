/// The outcome of one notification across its channels: what the MCP tools return,
/// what `mcp-push send --json` prints, and what the CLI's table shows.
public struct DispatchResult: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case success
        case partialSuccess = "partial_success"
        case error
        case skipped
    }

    public var status: Status
    public var message: String
    public var results: [ChannelResult]
    /// Set for `notify_event` results.
    public var event: EventSummary?

    public init(status: Status, message: String, results: [ChannelResult] = [], event: EventSummary? = nil) {
        self.status = status
        self.message = message
        self.results = results
        self.event = event
    }

    public var channelsCount: Int { results.count }

    /// Channel id to reason, for every channel that failed.
    public var errors: [ChannelID: String] {
        Dictionary(
            results.compactMap { result in result.ok ? nil : (result.channel, result.error ?? "failed") },
            uniquingKeysWith: { first, _ in first })
    }

    public var isError: Bool { status == .error }
}

public struct ChannelResult: Sendable, Equatable, Codable {
    public var channel: ChannelID
    public var ok: Bool
    public var statusCode: Int?
    public var error: String?
    public var durationMilliseconds: Int
    public var attempts: Int

    public init(channel: ChannelID, ok: Bool, statusCode: Int?, error: String?, durationMilliseconds: Int, attempts: Int) {
        self.channel = channel
        self.ok = ok
        self.statusCode = statusCode
        self.error = error
        self.durationMilliseconds = durationMilliseconds
        self.attempts = attempts
    }

    enum CodingKeys: String, CodingKey {
        case channel, ok
        case statusCode = "status_code"
        case error
        case durationMilliseconds = "duration_ms"
        case attempts
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

extension DispatchResult: Encodable {
    enum CodingKeys: String, CodingKey {
        case status, message
        case channelsCount = "channels_count"
        case errors, results
        case runID = "run_id"
        case event, timestamp
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        try container.encode(message, forKey: .message)
        try container.encode(channelsCount, forKey: .channelsCount)
        try container.encode(errors, forKey: .errors)
        try container.encode(results, forKey: .results)
        if let event {
            try container.encode(event.runID, forKey: .runID)
            try container.encode(event.event, forKey: .event)
            try container.encode(event.timestamp, forKey: .timestamp)
        }
    }
}
