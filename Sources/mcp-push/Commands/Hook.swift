import Agents
import Approvals
import ArgumentParser
import Foundation
import JSONText
import Logging
import PushCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `mcp-push hook claude|codex|gemini`: what the agents' hooks run. Reads the agent's payload,
/// pushes "finished", "failed" or "needs you" through the same dispatcher, history and outbox
/// as everything else, and never gets in the agent's way: it always exits 0, prints nothing
/// on stdout, and returns within MCP_PUSH_HOOK_DEADLINE (what is not delivered by then is
/// finished by a background flusher).
struct Hook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "Run by Claude Code, Codex CLI and Gemini CLI hooks: push when a turn finishes, fails or needs you.",
        discussion: """
            Reads the agent's hook JSON on stdin (Codex's `notify` passes it as the argument). Always exits 0 \
            and writes nothing on stdout. `mcp-push install <agent>` wires it; docs/AGENTS.md lists the events.
            Settings: MCP_PUSH_HOOK_EVENTS (finished,failed,needs_you by default; also idle, subagent; or all), \
            MCP_PUSH_HOOK_MIN_SECONDS (60: shorter finished turns are not pushed; 0 = always), \
            MCP_PUSH_HOOK_DEADLINE (5 s).

            Examples:
              echo '{"hook_event_name":"Stop","session_id":"s1","cwd":"/src/app"}' | mcp-push hook claude
              mcp-push hook codex '{"type":"agent-turn-complete","thread-id":"t1","cwd":"/src/app"}'
            """)

    @Argument(help: "claude, codex or gemini.")
    var agent: String

    @Argument(help: "The payload, when the agent passes it as an argument (Codex's notify).")
    var payload: String?

    func run() async throws {
        await Self.run(Array(CommandLine.arguments.dropFirst(2)))
    }

    /// Runs the hook from raw arguments (agent, optional payload), without argument parsing:
    /// the command that runs on every turn stays cheap, and no argument mistake exits non-zero.
    static func run(_ arguments: [String]) async {
        let started = ContinuousClock.now
        // An agent that closed our stderr must not turn a warning into a SIGPIPE death (a non-zero exit).
        signal(SIGPIPE, SIG_IGN)
        let environment = ProcessInfo.processInfo.environment
        let policyDeadline = (try? HookPolicy(configuration: Configuration(environment)))?.deadline ?? .seconds(5)
        Watchdog.start(deadline: started + policyDeadline)
        guard let name = arguments.first, let agent = Agent(rawValue: name.lowercased()) else {
            complain("unknown agent '\(arguments.first ?? "")'; use claude, codex or gemini")
            return
        }
        let payload: Data
        if arguments.count > 1 {
            payload = Data(arguments[1].utf8)
        } else {
            payload = readStandardInput(limit: 4 << 20)
        }
        let event: HookEvent
        do {
            event = try HookEvent.parse(payload, agent: agent)
        } catch {
            complain("\(agent.rawValue) hook: \(error.description)")
            return
        }
        guard let kind = event.kind else { return }  // not an event mcp-push acts on

        let runtime: Runtime
        let policy: HookPolicy
        do {
            runtime = try Runtime.start { configuration throws(ConfigurationError) in
                try capped(configuration, by: try HookPolicy(configuration: configuration).deadline - (ContinuousClock.now - started))
            }
            policy = try HookPolicy(configuration: runtime.configuration)
        } catch {
            return  // Runtime.start printed the configuration error
        }
        await handle(event, kind: kind, policy: policy, runtime: runtime)
    }

    private static func handle(_ event: HookEvent, kind: HookEvent.Kind, policy: HookPolicy, runtime: Runtime) async {
        let notifier = runtime.notifier
        // Nothing configured, nothing will ever be pushed: not even worth opening the store.
        if kind == .permission {
            await askPermission(event, policy: policy, runtime: runtime)
            await notifier.shutdown()
            return
        }
        guard !notifier.configuredChannels.isEmpty else {
            runtime.logger.info("no channel configured: \(event.agent.rawValue) \(event.name) not pushed")
            return
        }
        let at = Date()
        let runID = event.runID ?? "\(event.agent.rawValue):\(event.cwd ?? "unknown")"
        let record: (RunEvent.Kind) async -> RunRecord? = { runKind in
            await notifier.recordOnly(RunEvent(runID: runID, kind: runKind, message: "\(event.agent.rawValue) \(event.name)", timestamp: at))
        }
        var turn: Duration?
        switch kind {
        case .turnStarted:
            _ = await record(.start)
            await notifier.shutdown()
            return
        case .finished, .subagent:
            let previous = await (kind == .finished ? record(.end) : record(.update))
            if let start = previous?.startedAt, at >= start, previous?.finishedAt.map({ $0 < start }) ?? true {
                turn = .milliseconds(Int64(at.timeIntervalSince(start) * 1000))
            }
        case .failed:
            _ = await record(.error)
        case .idle:
            // It follows a turn that ended: when that turn's end was pushed, this says nothing new.
            let previous = await record(.update)
            if previous?.lastEvent == RunEvent.Kind.end.rawValue {
                await notifier.shutdown()
                return
            }
        case .needsYou, .permission:
            _ = await record(.update)
        }
        guard policy.pushed.contains(kind) else {
            await notifier.shutdown()
            return
        }
        if kind == .finished, let turn, turn < policy.minimumTurn {
            runtime.logger.info("turn took \(EventFormatter.durationText(turn)), under \(HookPolicy.minimumSecondsVariable): not pushed")
            await notifier.shutdown()
            return
        }
        let message = HookMessage.message(for: event, workspace: event.cwd.map(Workspace.init(directory:)), turn: turn)
        // Written ahead and handed to a background process: the agent's turn never waits on a
        // service (docs/AGENTS.md). Only without the shared store (or when it refuses the hand-over) is
        // it sent here, within the deadline.
        var sent: DispatchResult?
        do {
            sent = try await notifier.send(title: message.title, content: message.body, runID: runID, handOver: true, level: message.level, format: message.format)
        } catch {
            complain("\(event.agent.rawValue) hook: \(error.description)")
        }
        await runtime.handOverOutbox(after: sent)
        await notifier.shutdown()
    }

    /// A permission prompt: asked on the phone (Allow / Deny) when approvals are on, and the answer
    /// printed as the agent's decision. No answer, an error or any doubt prints nothing: the agent's
    /// own prompt in the terminal stays in charge. Never an allow by default.
    private static func askPermission(_ event: HookEvent, policy: HookPolicy, runtime: Runtime) async {
        let notifier = runtime.notifier
        let workspace = event.cwd.map(Workspace.init(directory:))
        let preview = ApprovalPreview.text(tool: event.toolName ?? "", input: event.toolInput, redact: notifier.redact)
        let approver: Approver
        do {
            approver = try Approver(configuration: runtime.configuration, notifier: notifier, logger: runtime.logger)
        } catch {
            complain("\(event.agent.rawValue) hook: configuration error: \(notifier.redact(error.description))")
            return
        }
        guard approver.isAvailable else {
            // Claude Code's own permission_prompt notification follows; Codex has none, so say it here.
            guard event.agent == .codex, policy.pushed.contains(.needsYou), !notifier.configuredChannels.isEmpty else { return }
            var waiting = event
            waiting.text = "\(event.toolName ?? "A tool") \(preview)"
            let message = HookMessage.message(for: waiting, workspace: workspace, turn: nil)
            let sent = try? await notifier.send(title: message.title, content: message.body, runID: event.runID, handOver: true, level: message.level, format: message.format)
            await runtime.handOverOutbox(after: sent)
            return
        }
        var shown = event
        shown.toolName = event.toolName.map(ApprovalPreview.visible)
        let question = HookMessage.permissionQuestion(for: shown, workspace: workspace, preview: preview)
        let timeout = approver.settings.timeout
        // This hook waits for the phone: its deadline is the question's, plus time to answer the agent.
        Watchdog.extend(to: .now + timeout + .seconds(3))
        let store = await notifier.store
        let stop = WithdrawOnStop(store: store, exitStatus: 0)
        defer { stop.cancel() }
        let outcome = await approver.ask(
            ApprovalQuestion(
                kind: .permission, title: question.title, detail: question.detail, options: ["Allow", "Deny"], timeout: timeout,
                agent: event.agent.rawValue),
            created: stop.asked,
            decided: { outcome in
                // The agent hears the decision at once; updating the phone's message comes after.
                if case .answered(let answer) = outcome { Output.write(PermissionDecision(allow: answer.choice == 0, answer: answer).json) }
            })
        switch outcome {
        case .answered:
            break
        case .timedOut:
            runtime.logger.info("no answer from the phone in \(timeout.seconds) s: the terminal decides")
        case .withdrawn:
            break
        case .unavailable(let reason):
            complain("\(event.agent.rawValue) hook: permission not asked on the phone: \(reason)")
        }
    }

    /// The configuration with the call's deadline and attempt time inside the hook's own, less
    /// the time for the bookkeeping after it: a slow channel times out in time, and its delivery
    /// is queued for the background flusher.
    static func capped(_ configuration: Configuration, by remaining: Duration) throws(ConfigurationError) -> Configuration {
        let budget = max(0.5, remaining.seconds - 1.5)
        func value(_ name: String, default fallback: Double) -> String {
            let configured = configuration[name].flatMap(Double.init).flatMap { $0.isFinite && $0 > 0 ? $0 : nil } ?? fallback
            return String(min(configured, budget))
        }
        return configuration
            .with("MCP_PUSH_DEADLINE", value("MCP_PUSH_DEADLINE", default: 30))
            .with("MCP_PUSH_TIMEOUT", value("MCP_PUSH_TIMEOUT", default: 15))
    }

    static func complain(_ text: String) {
        // write(2), not FileHandle, whose write traps when the agent closed our stderr.
        let line = Array("mcp-push: \(text)\n".utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// Everything on stdin up to `limit` bytes (a payload is a few kilobytes).
    private static func readStandardInput(limit: Int) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while data.count < limit {
            let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            data.append(contentsOf: buffer[..<count])
        }
        return data
    }
}

/// Ends the process with status 0 when the hook's deadline passes, whatever it is waiting on
/// (a locked store, a stdin that never closes): an agent's turn is never held up by us. A
/// permission prompt moves the deadline to its own.
enum Watchdog {
    private static let deadline = Mutex<ContinuousClock.Instant?>(nil)

    static func start(deadline first: ContinuousClock.Instant) {
        deadline.withLock { $0 = first }
        let thread = Thread {
            while true {
                let due = deadline.withLock { $0 } ?? .now
                let left = due - .now
                if left <= .zero { break }
                Thread.sleep(forTimeInterval: left.seconds)
            }
            Hook.complain("hook deadline reached; exiting")
            _exit(0)
        }
        thread.stackSize = 64 * 1024
        thread.start()
    }

    static func extend(to later: ContinuousClock.Instant) {
        deadline.withLock { $0 = max($0 ?? later, later) }
    }
}

/// The agent's answer to a permission prompt, as Claude Code and Codex read it from a hook's stdout.
struct PermissionDecision {
    let allow: Bool
    let answer: ApprovalAnswer

    var json: String {
        let who = [answer.by, answer.via.isEmpty ? nil : "via \(answer.via)"].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: " ")
        var decision: [(String, OrderedJSON)] = [("behavior", .string(allow ? "allow" : "deny"))]
        if !allow { decision.append(("message", .string("Denied from the phone (\(who)).") )) }
        let output: OrderedJSON = ["hookSpecificOutput": ["hookEventName": "PermissionRequest", "decision": .object(decision)]]
        return String(decoding: output.bytes, as: UTF8.self)
    }
}

