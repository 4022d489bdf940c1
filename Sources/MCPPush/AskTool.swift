import Approvals
import Foundation
import JSONText
import MCPProtocol
import PushCore

/// `notify_ask`: a question with a few options, pushed with the options as buttons; the call
/// waits for the person's choice (reporting progress, so the client's timeout does not fire).
/// Listed only when a channel can answer (docs/APPROVALS.md).
enum AskTool {
    static let name = "notify_ask"
    static let timeoutRange = 10...3600
    static let defaultTimeout = 300

    static let tool = Tool(
        name: name,
        title: "Ask the user a question",
        description: """
            Ask the user a short question on their phone (Telegram buttons, ntfy actions or a web page) and wait for \
            the answer. Use it only when you cannot go on without the user's choice and they may be away from the \
            terminal. Returns the chosen option, or status "timeout" when nobody answered in time: then decide \
            conservatively or stop. Never treat a timeout as consent.
            """,
        inputSchema: [
            "type": "object",
            "properties": [
                "question": ["type": "string", "minLength": 1, "maxLength": 2000, "description": "The question, in a sentence or two."],
                "options": [
                    "type": "array", "items": ["type": "string", "minLength": 1, "maxLength": 40], "minItems": 2, "maxItems": 4,
                    "description": "2 to 4 short answers, shown as buttons.",
                ],
                "timeout_seconds": [
                    "type": "integer", "minimum": .int(timeoutRange.lowerBound), "maximum": .int(timeoutRange.upperBound),
                    "description": .string("How long to wait for the answer (default \(defaultTimeout))."),
                ],
            ],
            "required": ["question", "options"],
            "additionalProperties": false,
        ],
        outputSchema: [
            "type": "object",
            "properties": [
                "status": ["type": "string", "enum": ["answered", "timeout", "withdrawn", "unavailable", "error"]],
                "answer": ["type": "string", "description": "The chosen option, exactly as given."],
                "answer_index": ["type": "integer"],
                "answered_by": ["type": "string"],
                "channel": ["type": "string", "description": "telegram, ntfy or web."],
                "message": ["type": "string"],
            ],
            "required": ["status", "message"],
        ],
        annotations: Tool.Annotations(readOnly: false, destructive: false, idempotent: false, openWorld: true))

    static func call(_ arguments: OrderedJSON?, approver: Approver, progress: ProgressReporter?) async -> ToolResult {
        let values = Arguments(values: arguments?.dictionary ?? [:])
        let question: ApprovalQuestion
        do throws(InputError) {
            question = try read(values)
        } catch {
            return result(["status": "error", "message": .string("Invalid input: \(error.description).")], isError: true)
        }
        let timeout = question.timeout
        let outcome = await approver.ask(question, waiting: { left in
            guard let progress else { return }
            let elapsed = (timeout - left).seconds
            await progress.report(
                progress: max(0, elapsed), total: timeout.seconds, message: "waiting for the user's answer (\(Int(left.seconds)) s left)")
        })
        return result(for: outcome, options: question.options)
    }

    static func read(_ values: Arguments) throws(InputError) -> ApprovalQuestion {
        try values.rejectUnknown(allowed: ["question", "options", "timeout_seconds"])
        let text = try values.requiredString("question")
        guard text.count <= 2000 else { throw InputError(field: "question", "'question' must be at most 2000 characters") }
        guard case .array(let items)? = values.values["options"] else {
            throw InputError(field: "options", "'options' is required: an array of 2 to 4 short strings")
        }
        var options: [String] = []
        for item in items {
            guard case .string(let option) = item, !option.trimmingWhitespace().isEmpty, option.count <= 40 else {
                throw InputError(field: "options", "each option must be a non-empty string of at most 40 characters")
            }
            // An option comes back as the answer exactly as given, so it is refused rather than altered.
            guard ApprovalPreview.visible(option) == option else {
                throw InputError(field: "options", "an option must not contain control or text-direction characters")
            }
            options.append(option)
        }
        guard (2...4).contains(options.count) else { throw InputError(field: "options", "'options' must hold 2 to 4 choices, got \(options.count)") }
        guard Set(options).count == options.count else { throw InputError(field: "options", "'options' must not repeat a choice") }
        var seconds = defaultTimeout
        if let raw = values.values["timeout_seconds"], raw != .null {
            guard case .int(let value) = raw, timeoutRange.contains(value) else {
                throw InputError(field: "timeout_seconds", "'timeout_seconds' must be a whole number from \(timeoutRange.lowerBound) to \(timeoutRange.upperBound)")
            }
            seconds = value
        }
        // What the agent wrote is shown as written, but never reordered or hidden by control characters.
        let shown = ApprovalPreview.visible(text)
        let firstLine = shown.split(whereSeparator: \.isNewline).first.map(String.init) ?? shown
        let title = "❓ " + (firstLine.count > 80 ? String(firstLine.prefix(80)) + "…" : firstLine)
        return ApprovalQuestion(kind: .question, title: title, detail: shown, options: options, timeout: .seconds(seconds))
    }

    static func result(for outcome: ApprovalOutcome, options: [String]) -> ToolResult {
        switch outcome {
        case .answered(let answer):
            return result([
                "status": "answered", "answer": .string(answer.label), "answer_index": .int(answer.choice),
                "answered_by": .string(answer.by), "channel": .string(answer.via),
                "message": .string("The user answered \"\(answer.label)\" (\(answer.via))."),
            ])
        case .timedOut:
            return result(["status": "timeout", "message": "Nobody answered in time. Do not take this as consent."])
        case .withdrawn:
            return result(["status": "withdrawn", "message": "The question was withdrawn before anyone answered."])
        case .unavailable(let reason):
            return result(["status": "unavailable", "message": .string("The question could not be asked: \(reason).")], isError: true)
        }
    }

    static func result(_ json: OrderedJSON, isError: Bool = false) -> ToolResult {
        ToolResult(text: json.text, structuredContent: json, isError: isError)
    }
}
