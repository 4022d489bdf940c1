import Foundation
import JSONText
import MCPProtocol
import PushCore

/// The two tools: their schemas, and how a call becomes a ``Notifier`` request.
enum PushTools {
    static let sendName = "notify_send"
    static let eventName = "notify_event"

    static var all: [Tool] { [send, event] }

    static let annotations = Tool.Annotations(readOnly: false, destructive: false, idempotent: false, openWorld: true)

    static let levelProperty: OrderedJSON = [
        "type": "string", "enum": .array(Level.allCases.map { .string($0.rawValue) }),
        "description": "How urgent: info (default), success, warning, error or critical; each service shows it its own way (Bark time-sensitive, ntfy priority).",
    ]

    static let urlProperty: OrderedJSON = [
        "type": "string", "format": "uri",
        "description": "An http(s) link the notification opens (a report, a pull request).",
    ]

    static let formatProperty: OrderedJSON = [
        "type": "string", "enum": .array(Format.allCases.map { .string($0.rawValue) }),
        "description": "text (default): shown exactly as written. markdown: rendered where the app can (Telegram, ntfy, DingTalk, e-mail...), shown as clean plain text elsewhere.",
    ]

    static let channelsProperty: OrderedJSON = [
        "type": "array",
        "items": ["type": "string", "enum": .array(ChannelCatalogue.ids.map { .string($0) })],
        "minItems": 1,
        "description": "Send only to these channel ids (default: every configured channel).",
    ]

    static let send = Tool(
        name: sendName,
        title: "Send a notification",
        description: Guidelines.sendDescription,
        inputSchema: [
            "type": "object",
            "properties": [
                "title": ["type": "string", "minLength": 1, "description": "Short headline shown on the lock screen."],
                "content": ["type": "string", "minLength": 1, "description": "The message: a few lines."],
                "format": formatProperty,
                "level": levelProperty,
                "url": urlProperty,
                "channels": channelsProperty,
            ],
            "required": ["title", "content"],
            "additionalProperties": false,
        ],
        outputSchema: ResultSchema.send,
        annotations: annotations)

    static let event = Tool(
        name: eventName,
        title: "Report a run event",
        description: Guidelines.eventDescription,
        inputSchema: [
            "type": "object",
            "properties": [
                "run_id": ["type": "string", "minLength": 1, "description": "Identifies the run across its events."],
                "event": [
                    "type": "string", "enum": .array(RunEvent.Kind.allCases.map { .string($0.rawValue) }),
                    "description": "start, update, end or error. By default only end and error are pushed.",
                ],
                "message": ["type": "string", "minLength": 1, "description": "What happened, in a sentence or two."],
                "format": formatProperty,
                "data": [
                    "type": "object",
                    "description": "Details: progress (0 to 1), step, artifact_url, error_code, or any other keys.",
                    "properties": [
                        "progress": ["type": "number", "minimum": 0, "maximum": 1],
                        "step": ["type": "string"],
                        "artifact_url": ["type": "string"],
                        "error_code": ["type": ["string", "integer"]],
                    ],
                    "additionalProperties": true,
                ],
                "timestamp": [
                    "type": "string", "format": "date-time",
                    "description": "RFC 3339 time of the event (default: now).",
                ],
                "level": [
                    "type": "string", "enum": .array(Level.allCases.map { .string($0.rawValue) }),
                    "description": "How urgent the pushed message is (default: success for end, error for error, else info).",
                ],
                "url": [
                    "type": "string", "format": "uri",
                    "description": "An http(s) link the notification opens (default: data.artifact_url when it is one).",
                ],
                "channels": channelsProperty,
            ],
            "required": ["run_id", "event", "message"],
            "additionalProperties": false,
        ],
        outputSchema: ResultSchema.event,
        annotations: annotations)

    /// Runs a `tools/call`; bad arguments become an `isError` result naming the field.
    /// Progress is reported when the caller asked for it (`progress`, from its progress token).
    static func call(
        _ name: String, arguments: OrderedJSON?, notifier: Notifier, progress: CallProgress? = nil
    ) async throws(MCPError) -> ToolResult {
        guard name == sendName || name == eventName else {
            throw .invalidParams("Unknown tool '\(name)'; this server has \(sendName) and \(eventName).")
        }
        let arguments = Arguments(values: arguments?.dictionary ?? [:])
        do throws(InputError) {
            switch name {
            case sendName:
                try arguments.rejectUnknown(allowed: ["title", "content", "format", "level", "url", "channels"])
                let title = try arguments.requiredString("title")
                let content = try arguments.requiredString("content")
                let level = try arguments.level() ?? .info
                let format = try arguments.format()
                let url = try arguments.optionalString("url")
                let channels = try arguments.optionalStringArray("channels")
                let result = try await reporting(progress, channels ?? notifier.configuredChannels) { report throws(InputError) in
                    try await notifier.send(
                        title: title, content: content, channels: channels, progress: report, url: url, level: level, format: format)
                }
                return ResultEncoding.toolResult(result)
            default:
                try arguments.rejectUnknown(allowed: ["run_id", "event", "message", "format", "data", "timestamp", "level", "url", "channels"])
                var event = try arguments.runEvent()
                event.level = try arguments.level()
                event.format = try arguments.format()
                event.url = try arguments.optionalString("url")
                let channels = try arguments.optionalStringArray("channels")
                let result = try await reporting(progress, channels ?? notifier.configuredChannels) { report throws(InputError) in
                    try await notifier.event(event, channels: channels, progress: report)
                }
                return ResultEncoding.toolResult(result)
            }
        } catch {
            return ResultEncoding.inputError(error, event: name == eventName ? arguments.partialEvent : nil)
        }
    }
}

private func reporting(
    _ progress: CallProgress?, _ expected: [ChannelID], _ body: (Notifier.Progress?) async throws(InputError) -> DispatchResult
) async throws(InputError) -> DispatchResult {
    guard let progress else { return try await body(nil) }
    return try await progress.run(expecting: expected) { report throws(InputError) in try await body(report) }
}

/// Tool arguments with checks that name the field and what it accepts.
struct Arguments {
    let values: [String: OrderedJSON]

    func rejectUnknown(allowed: Set<String>) throws(InputError) {
        let unknown = values.keys.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw InputError(
                field: unknown[0],
                "unknown argument \(unknown.map { "'\($0)'" }.joined(separator: ", ")); allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    func requiredString(_ field: String) throws(InputError) -> String {
        guard let value = values[field], value != .null else {
            throw InputError(field: field, "'\(field)' is required (a non-empty string)")
        }
        guard case .string(let string) = value else {
            throw InputError(field: field, "'\(field)' must be a string, got \(value.typeName)")
        }
        guard !string.trimmingWhitespace().isEmpty else {
            throw InputError(field: field, "'\(field)' must not be empty")
        }
        return string
    }

    func optionalString(_ field: String) throws(InputError) -> String? {
        guard let value = values[field], value != .null else { return nil }
        guard case .string(let string) = value else {
            throw InputError(field: field, "'\(field)' must be a string, got \(value.typeName)")
        }
        return string
    }

    func level() throws(InputError) -> Level? {
        guard let name = try optionalString("level") else { return nil }
        guard let level = Level(rawValue: name) else {
            throw InputError(field: "level", "'level' must be one of \(Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'")
        }
        return level
    }

    func format() throws(InputError) -> Format {
        guard let name = try optionalString("format") else { return .text }
        guard let format = Format(rawValue: name) else {
            throw InputError(field: "format", "'format' must be text or markdown, got '\(name)'")
        }
        return format
    }

    func optionalStringArray(_ field: String) throws(InputError) -> [String]? {
        guard let value = values[field], value != .null else { return nil }
        guard case .array(let items) = value else {
            throw InputError(field: field, "'\(field)' must be an array of channel ids, got \(value.typeName)")
        }
        var strings: [String] = []
        for item in items {
            guard case .string(let string) = item else {
                throw InputError(field: field, "'\(field)' must contain only strings (channel ids), got \(item.typeName)")
            }
            strings.append(string)
        }
        return strings
    }

    func runEvent() throws(InputError) -> RunEvent {
        let runID = try requiredString("run_id")
        let eventName = try requiredString("event")
        guard let kind = RunEvent.Kind(rawValue: eventName) else {
            throw InputError(
                field: "event",
                "'event' must be one of \(RunEvent.Kind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(eventName)'")
        }
        let message = try requiredString("message")
        var data: [String: JSONValue] = [:]
        if let raw = values["data"], raw != .null {
            guard case .object(let object) = JSONValue(raw) else {
                throw InputError(field: "data", "'data' must be an object, got \(raw.typeName)")
            }
            // What the values must be is checked once, by the core (RunEvent.validate), for every adapter.
            data = object
        }
        var timestamp = Date()
        if let raw = values["timestamp"], raw != .null {
            guard case .string(let text) = raw, let date = RFC3339.parse(text) else {
                throw InputError(field: "timestamp", "'timestamp' must be an RFC 3339 date-time such as 2026-11-24T09:30:00Z")
            }
            timestamp = date
        }
        return RunEvent(runID: runID, kind: kind, message: message, data: data, timestamp: timestamp)
    }

    /// What can be echoed back in an error result for `notify_event`.
    var partialEvent: EventSummary {
        EventSummary(
            runID: values["run_id"]?.stringValue ?? "",
            event: values["event"]?.stringValue ?? "",
            timestamp: RFC3339.format(Date()))
    }
}
