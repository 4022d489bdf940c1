import Foundation

/// A lifecycle event of an agent's run (`notify_event`).
public struct RunEvent: Sendable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case start, update, end, error
    }

    public var runID: String
    public var kind: Kind
    public var message: String
    /// Extra details: `progress` (0...1), `step`, `artifact_url`, `error_code`, anything else.
    public var data: [String: JSONValue]
    public var timestamp: Date
    /// How urgent the pushed message is; by default an `end` is a success and an `error` an error.
    public var level: Level?
    /// The link the message opens; by default `data.artifact_url` when it is a web address.
    public var url: String?
    /// How `message` is read (the details added to it are always text).
    public var format: Format = .text

    public init(runID: String, kind: Kind, message: String, data: [String: JSONValue] = [:], timestamp: Date = Date()) {
        self.runID = runID
        self.kind = kind
        self.message = message
        self.data = data
        self.timestamp = timestamp
    }

    /// The checks every adapter (MCP tool, CLI, hooks) gets: one place, one wording.
    /// The level the pushed message carries.
    public var effectiveLevel: Level {
        if let level { return level }
        switch kind {
        case .end: return .success
        case .error: return .error
        case .start, .update: return .info
        }
    }

    /// The link the pushed message carries (an artifact URL that is not a web address stays text only).
    public var effectiveURL: String? {
        url ?? data["artifact_url"]?.string.flatMap { try? InputError.validateURL($0) }
    }

    public func validate() throws(InputError) {
        _ = try InputError.validateURL(url)
        _ = try InputError.requireText(runID, field: "run_id")
        _ = try InputError.requireText(message, field: "message")
        if let progress = data["progress"] {
            guard case let fraction? = progress.double, progress.string == nil, (0...1).contains(fraction) else {
                throw InputError(field: "data.progress", "'data.progress' must be a number from 0 to 1, got \(progress.text)")
            }
        }
        for key in ["step", "artifact_url"] {
            if let value = data[key], value.string == nil {
                throw InputError(field: "data.\(key)", "'data.\(key)' must be a string, got \(value.text)")
            }
        }
        if let code = data["error_code"], code.string == nil, code.int == nil {
            throw InputError(field: "data.error_code", "'data.error_code' must be a string or an integer, got \(code.text)")
        }
    }

    /// RFC 3339 in UTC with milliseconds, as results report it.
    public var timestampText: String { RFC3339.format(timestamp) }
}

/// Which events are pushed (`MCP_PUSH_EVENTS`: a comma list, or `all`). By default only
/// `end` and `error`: a start or a progress update is not worth a phone buzz.
public struct EventPolicy: Sendable, Equatable {
    public static let variable = "MCP_PUSH_EVENTS"
    /// In declaration order. A list, not a Set: a Set's first use costs every process a run-time
    /// conformance lookup (about 0.15 ms of start-up; docs/PERFORMANCE.md).
    public var pushed: [RunEvent.Kind]

    public init(pushed: [RunEvent.Kind] = [.end, .error]) {
        self.pushed = RunEvent.Kind.allCases.filter(pushed.contains)
    }

    public init(configuration: Configuration) throws(ConfigurationError) {
        guard let names = configuration.list(Self.variable) else {
            self.init()
            return
        }
        if names.map({ $0.lowercased() }) == ["all"] {
            self.init(pushed: RunEvent.Kind.allCases)
            return
        }
        var kinds: [RunEvent.Kind] = []
        for name in names {
            guard let kind = RunEvent.Kind(rawValue: name.lowercased()) else {
                throw .invalid(Self.variable, "unknown event \"\(name)\"; use a comma list of start, update, end, error, or all")
            }
            kinds.append(kind)
        }
        self.init(pushed: kinds)
    }
}

/// RFC 3339 timestamps, as `notify_event` accepts and reports them.
///
/// Foundation's `ISO8601FormatStyle` (pure Swift) rather than `ISO8601DateFormatter`, which wraps
/// ICU: about 90 µs a timestamp against under 1, and no ICU data paged in on the first event.
public enum RFC3339 {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()

    public static func parse(_ text: String) -> Date? {
        (try? withFraction.parse(text)) ?? (try? withoutFraction.parse(text))
    }

    /// UTC with milliseconds, e.g. `2026-11-24T09:30:00.123Z`.
    public static func format(_ date: Date) -> String {
        date.formatted(withFraction)
    }
}
