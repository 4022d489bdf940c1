import JSONText
import MCPProtocol
import PushCore

/// One encoding of a ``DispatchResult`` for both the text content and `structuredContent`.
enum ResultEncoding {
    static func toolResult(_ result: DispatchResult) -> ToolResult {
        let json = result.json
        return ToolResult(text: json.text, structuredContent: json, isError: result.isError)
    }

    static func inputError(_ error: InputError, event: EventSummary?) -> ToolResult {
        toolResult(DispatchResult(status: .error, message: "Invalid input: \(error.description).", event: event))
    }
}

/// The declared `outputSchema` of both tools.
enum ResultSchema {
    static let channelResult: OrderedJSON = [
        "type": "object",
        "properties": [
            "channel": ["type": "string"],
            "ok": ["type": "boolean"],
            "status_code": ["type": "integer"],
            "error": ["type": "string"],
            "duration_ms": ["type": "integer"],
            "attempts": ["type": "integer"],
            "parts": ["type": "integer", "description": "How many messages a long text went as (split on line breaks)."],
            "edited": ["type": "boolean", "description": "Present and true when this run's earlier message was edited in place instead of a new one sent."],
            "queued": [
                "type": "boolean",
                "description": "Not delivered yet: kept in the outbox and retried in the background.",
            ],
        ],
        "required": ["channel", "ok", "duration_ms", "attempts"],
    ]

    static let baseProperties: OrderedJSON = [
        "status": [
            "type": "string", "enum": .array(DispatchResult.Status.allCases.map { .string($0.rawValue) }),
            "description": "success: every channel delivered; partial_success: some did; queued: none yet, the rest is retried in the background; error: none did (or bad input); skipped: deliberately not pushed.",
        ],
        "reason": [
            "type": "string", "description": "Why a skipped result was not pushed: duplicate, skip_title, event_policy or level.",
        ],
        "message": ["type": "string"],
        "channels_count": ["type": "integer"],
        "errors": [
            "type": "object", "additionalProperties": ["type": "string"],
            "description": "Channel id to the service's reason, for every channel that failed.",
        ],
        "results": ["type": "array", "items": channelResult],
        "warnings": [
            "type": "array", "items": ["type": "string"],
            "description": "Problems that did not stop delivery, e.g. history that could not be written.",
        ],
    ]

    static let required: [OrderedJSON] = ["status", "message", "channels_count", "errors", "results"]

    static let send: OrderedJSON = ["type": "object", "properties": baseProperties, "required": .array(required)]

    static let event: OrderedJSON = {
        let properties: [(String, OrderedJSON)] = baseProperties.members! + [
            ("run_id", ["type": "string"]), ("event", ["type": "string"]), ("timestamp", ["type": "string", "format": "date-time"]),
        ]
        return ["type": "object", "properties": .object(properties), "required": .array(required + ["run_id", "event", "timestamp"])]
    }()
}
