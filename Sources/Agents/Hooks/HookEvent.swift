import Foundation
import PushCore

/// What one agent hook call means for the person away from the terminal, read from the
/// agent's own payload (field names as each agent documents them). Unknown fields and
/// unknown events are ignored, never an error.
public struct HookEvent: Sendable, Equatable {
    /// What happened, in the terms `MCP_PUSH_HOOK_EVENTS` uses.
    public enum Kind: String, Sendable, CaseIterable {
        /// The turn finished (Claude `Stop`, Codex `agent-turn-complete`/`Stop`, Gemini `AfterAgent`).
        case finished
        /// The turn ended on an error (`StopFailure`).
        case failed
        /// The agent waits for the person: a permission prompt, a question, a dialog.
        case needsYou = "needs_you"
        /// Claude's `idle_prompt`: waiting for input a while after a turn ended (off by default).
        case idle
        /// A subagent finished (Claude `SubagentStop`, off by default).
        case subagent
        /// A turn or session began: never pushed, remembered to time the turn.
        case turnStarted = "turn_started"
        /// A permission prompt (`PermissionRequest`): asked on the phone when approvals are on.
        case permission
    }

    public var agent: Agent
    /// The agent's own event name (`Stop`, `agent-turn-complete`, ...).
    public var name: String
    /// Nil when the event is not one mcp-push acts on.
    public var kind: Kind?
    public var sessionID: String?
    public var cwd: String?
    /// The agent's last answer, or the notification's message.
    public var text: String?
    /// `StopFailure`'s `error` (rate_limit, overloaded, authentication_failed, ...).
    public var error: String?
    public var errorDetails: String?
    /// `PermissionRequest`'s `tool_name` and `tool_input`.
    public var toolName: String?
    public var toolInput: JSONValue?

    /// The kinds pushed unless `MCP_PUSH_HOOK_EVENTS` says otherwise.
    public static let pushedByDefault: [Kind] = [.finished, .failed, .needsYou]

    /// The run this session's turns are recorded under (for their durations and history).
    public var runID: String? { sessionID.map { "\(agent.rawValue):\($0)" } }
}

/// A payload that is not the agent's hook JSON.
public struct HookPayloadError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

extension HookEvent {
    /// Reads one hook payload. Codex's `notify` program gets its JSON as an argument, its
    /// hooks get it on stdin; both come here as bytes.
    public static func parse(_ data: Data, agent: Agent) throws(HookPayloadError) -> HookEvent {
        guard !data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
            throw HookPayloadError(description: "empty hook payload (expected the agent's JSON)")
        }
        guard let json = JSONValue.decode(data), json.object != nil else {
            throw HookPayloadError(description: "the hook payload is not a JSON object")
        }
        var event = HookEvent(
            agent: agent, name: "", kind: nil, sessionID: json["session_id"]?.string, cwd: json["cwd"]?.string)
        switch agent {
        case .claude: event.readClaude(json)
        case .codex: event.readCodex(json)
        case .gemini: event.readGemini(json)
        }
        return event
    }

    private mutating func readClaude(_ json: JSONValue) {
        name = json["hook_event_name"]?.string ?? ""
        switch name {
        case "Stop":
            kind = .finished
            text = json["last_assistant_message"]?.string
        case "SubagentStop":
            kind = .subagent
            text = json["last_assistant_message"]?.string
        case "StopFailure":
            kind = .failed
            readFailure(json)
        case "Notification":
            text = json["message"]?.string
            switch json["notification_type"]?.string {
            case "permission_prompt", "agent_needs_input", "elicitation_dialog", "elicitation_url_dialog": kind = .needsYou
            case "idle_prompt": kind = .idle
            default: kind = nil  // auth_success, elicitation_complete, ...: nothing to tell
            }
        case "UserPromptSubmit", "SessionStart":
            kind = .turnStarted
        case "PermissionRequest":
            readPermission(json)
        default:
            kind = nil
        }
    }

    private mutating func readPermission(_ json: JSONValue) {
        kind = .permission
        toolName = json["tool_name"]?.string
        toolInput = json["tool_input"]
    }

    private mutating func readCodex(_ json: JSONValue) {
        if let type = json["type"]?.string {
            // The `notify` program: one event, its keys in kebab case.
            name = type
            sessionID = json["thread-id"]?.string ?? sessionID
            kind = type == "agent-turn-complete" ? .finished : nil
            text = json["last-assistant-message"]?.string
            return
        }
        name = json["hook_event_name"]?.string ?? ""
        switch name {
        case "Stop":
            kind = .finished
            text = json["last_assistant_message"]?.string
        case "StopFailure":
            kind = .failed
            readFailure(json)
        case "UserPromptSubmit", "SessionStart":
            kind = .turnStarted
        case "PermissionRequest":
            readPermission(json)
        default:
            kind = nil
        }
    }

    private mutating func readGemini(_ json: JSONValue) {
        name = json["hook_event_name"]?.string ?? ""
        switch name {
        case "AfterAgent":
            kind = .finished
            text = json["prompt_response"]?.string
        case "Notification":
            text = json["message"]?.string
            kind = json["notification_type"]?.string == "ToolPermission" ? .needsYou : nil
        case "BeforeAgent", "SessionStart":
            kind = .turnStarted
        default:
            kind = nil
        }
    }

    private mutating func readFailure(_ json: JSONValue) {
        error = json["error"]?.string ?? json["error"].map(\.text)
        errorDetails = json["error_details"]?.string ?? json["error_details"].map(\.text)
    }
}

/// Which hook events are pushed (`MCP_PUSH_HOOK_EVENTS`: a comma list of kinds, or `all`).
public struct HookPolicy: Sendable, Equatable {
    public static let eventsVariable = "MCP_PUSH_HOOK_EVENTS"
    public static let minimumSecondsVariable = "MCP_PUSH_HOOK_MIN_SECONDS"
    public static let deadlineVariable = "MCP_PUSH_HOOK_DEADLINE"

    /// In declaration order; a list, not a Set (see ``EventPolicy/pushed``).
    public var pushed: [HookEvent.Kind]
    /// A finished turn shorter than this is not pushed (0: always).
    public var minimumTurn: Duration
    /// The hook returns within this, whatever happens.
    public var deadline: Duration

    public init(pushed: [HookEvent.Kind] = HookEvent.pushedByDefault, minimumTurn: Duration = .seconds(60), deadline: Duration = .seconds(5)) {
        self.pushed = HookEvent.Kind.allCases.filter(pushed.contains)
        self.minimumTurn = minimumTurn
        self.deadline = deadline
    }

    public init(configuration: Configuration) throws(ConfigurationError) {
        self.init()
        if let names = configuration.list(Self.eventsVariable) {
            // Permission prompts follow MCP_PUSH_APPROVALS instead.
            let choosable = HookEvent.Kind.allCases.filter { $0 != .turnStarted && $0 != .permission }
            if names.map({ $0.lowercased() }) == ["all"] {
                pushed = choosable
            } else {
                var kinds: [HookEvent.Kind] = []
                for name in names {
                    guard let kind = HookEvent.Kind(rawValue: name.lowercased()), choosable.contains(kind) else {
                        throw .invalid(
                            Self.eventsVariable,
                            "unknown event \"\(name)\"; use a comma list of \(choosable.map(\.rawValue).joined(separator: ", ")), or all")
                    }
                    kinds.append(kind)
                }
                pushed = HookEvent.Kind.allCases.filter(kinds.contains)
            }
        }
        if let seconds = try configuration.int(Self.minimumSecondsVariable, in: 0...86_400) {
            minimumTurn = .seconds(seconds)
        }
        if let seconds = configuration[Self.deadlineVariable] {
            guard let value = Double(seconds), value.isFinite, (0.5...60).contains(value) else {
                throw .invalid(Self.deadlineVariable, "expected seconds from 0.5 to 60, got \"\(seconds)\"")
            }
            deadline = .milliseconds(Int64(value * 1000))
        }
    }
}
