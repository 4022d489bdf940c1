import Agents
import Foundation
import PushCore
import Testing
import JSONText

@Suite struct HookEventTests {
    func parse(_ json: String, _ agent: Agent) throws -> HookEvent {
        try HookEvent.parse(Data(json.utf8), agent: agent)
    }

    @Test(arguments: [
        (#"{"hook_event_name":"Stop","session_id":"s","cwd":"/p","last_assistant_message":"done"}"#, Agent.claude, HookEvent.Kind.finished),
        (#"{"hook_event_name":"StopFailure","session_id":"s","error":"billing_error"}"#, .claude, .failed),
        (#"{"hook_event_name":"Notification","notification_type":"elicitation_dialog","message":"?"}"#, .claude, .needsYou),
        (#"{"hook_event_name":"Notification","notification_type":"agent_needs_input","message":"?"}"#, .claude, .needsYou),
        (#"{"hook_event_name":"Notification","notification_type":"idle_prompt","message":"?"}"#, .claude, .idle),
        (#"{"hook_event_name":"SubagentStop","agent_id":"a"}"#, .claude, .subagent),
        (#"{"hook_event_name":"SessionStart","source":"resume"}"#, .claude, .turnStarted),
        (#"{"type":"agent-turn-complete","thread-id":"t","cwd":"/p","input-messages":[],"last-assistant-message":"ok"}"#, .codex, .finished),
        (#"{"hook_event_name":"UserPromptSubmit","session_id":"s","turn_id":"1","model":"m"}"#, .codex, .turnStarted),
        (#"{"hook_event_name":"AfterAgent","prompt":"p","prompt_response":"r","timestamp":"t"}"#, .gemini, .finished),
        (#"{"hook_event_name":"Notification","notification_type":"ToolPermission","message":"m","details":{}}"#, .gemini, .needsYou),
    ])
    func eventsMapToKinds(json: String, agent: Agent, kind: HookEvent.Kind) throws {
        #expect(try parse(json, agent).kind == kind)
    }

    @Test func unknownEventsAndTypesAreIgnoredNotErrors() throws {
        #expect(try parse(#"{"hook_event_name":"PostToolBatch","x":[1]}"#, .claude).kind == nil)
        #expect(try parse(#"{"hook_event_name":"Notification","notification_type":"auth_success"}"#, .claude).kind == nil)
        #expect(try parse(#"{"type":"something-new"}"#, .codex).kind == nil)
        #expect(try parse(#"{"hook_event_name":"Stop","session_id":7}"#, .claude).sessionID == nil)
    }

    @Test func codexNotifyUsesTheThreadAsSession() throws {
        let event = try parse(#"{"type":"agent-turn-complete","thread-id":"t-9","cwd":"/p","last-assistant-message":"ok"}"#, .codex)
        #expect(event.runID == "codex:t-9" && event.text == "ok" && event.cwd == "/p")
    }

    @Test(arguments: ["", "  \n", "null", "[]", "\"Stop\"", "{\"hook_event_name\":"])
    func garbageIsAnError(text: String) {
        #expect(throws: HookPayloadError.self) { try HookEvent.parse(Data(text.utf8), agent: .claude) }
    }

    @Test func failureNamesTheErrorAndItsDetails() throws {
        let event = try parse(#"{"hook_event_name":"StopFailure","error":"overloaded","error_details":{"status":529}}"#, .claude)
        let message = HookMessage.message(for: event, workspace: Workspace(project: "api", branch: "main"), turn: nil)
        #expect(message.title == "❌ Claude Code failed: api")
        #expect(message.body == "api (main)\nError: overloaded: {\"status\":529}")
    }

    @Test func aLongAnswerIsCutCleanly() throws {
        let answer = (1...20).map { "Line \($0) of the answer, with a few words in it." }.joined(separator: "\n")
        let event = try parse(#"{"hook_event_name":"Stop","last_assistant_message":\#(OrderedJSON.string(answer).text)}"#, .claude)
        let body = HookMessage.message(for: event, workspace: nil, turn: .seconds(725)).body
        #expect(body.hasPrefix("took 12m 05s\n\nLine 1 of the answer"))
        #expect(body.hasSuffix(" …"))
        #expect(body.contains("Line 6") && !body.contains("Line 7"))
    }

    @Test func workspaceFindsTheRepositoryAndBranch() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ws-\(UUID().uuidString)/billing")
        try FileManager.default.createDirectory(at: root.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("src/deep"), withIntermediateDirectories: true)
        try "ref: refs/heads/fix/rounding\n".write(to: root.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        #expect(Workspace(directory: root.appendingPathComponent("src/deep").path) == Workspace(project: "billing", branch: "fix/rounding"))
        try "0123456789abcdef0123456789abcdef01234567\n".write(to: root.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        #expect(Workspace(directory: root.path) == Workspace(project: "billing", branch: nil))
        #expect(Workspace(directory: "/nonexistent/place/tool").project == "tool")
        #expect(Workspace(directory: "/nonexistent/place/tool/").project == "tool")
        #expect(Workspace(directory: root.appendingPathComponent("src/deep/../.").path + "/") == Workspace(project: "billing", branch: nil))
        // A worktree: `.git` is a file naming the worktree's own git directory, relative or absolute.
        let worktree = root.deletingLastPathComponent().appendingPathComponent("billing-wt")
        let gitDirectory = root.appendingPathComponent(".git/worktrees/wt")
        try FileManager.default.createDirectory(at: gitDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: worktree, withIntermediateDirectories: true)
        try "ref: refs/heads/feature/x\n".write(to: gitDirectory.appendingPathComponent("HEAD"), atomically: true, encoding: .utf8)
        try "gitdir: ../billing/.git/worktrees/wt\n".write(to: worktree.appendingPathComponent(".git"), atomically: true, encoding: .utf8)
        #expect(Workspace(directory: worktree.path) == Workspace(project: "billing-wt", branch: "feature/x"))
        try "gitdir: \(gitDirectory.path)\n".write(to: worktree.appendingPathComponent(".git"), atomically: true, encoding: .utf8)
        #expect(Workspace(directory: worktree.path) == Workspace(project: "billing-wt", branch: "feature/x"))
    }

    @Test func policyReadsItsVariables() throws {
        let policy = try HookPolicy(configuration: Configuration([
            "MCP_PUSH_HOOK_EVENTS": "failed, idle", "MCP_PUSH_HOOK_MIN_SECONDS": "0", "MCP_PUSH_HOOK_DEADLINE": "2.5",
        ]))
        #expect(policy.pushed == [.failed, .idle] && policy.minimumTurn == .zero && policy.deadline == .milliseconds(2500))
        #expect(try HookPolicy(configuration: Configuration([:])) == HookPolicy())
        #expect(throws: ConfigurationError.self) { try HookPolicy(configuration: Configuration(["MCP_PUSH_HOOK_EVENTS": "stop"])) }
        #expect(throws: ConfigurationError.self) { try HookPolicy(configuration: Configuration(["MCP_PUSH_HOOK_DEADLINE": "1e300"])) }
    }
}
