import Agents
import Approvals
import ArgumentParser
import Foundation
import Logging
import PushCore

/// `mcp-push doctor`: one screen that says what is wrong, in words.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the configuration, the channels, the state directory and each agent's set-up.",
        discussion: """
            Each line is ok, WARN (works, but worth a look), BROKEN (will not work as set up) or info. An agent \
            that is not installed is information, not breakage; hooks or a server entry naming a binary that no \
            longer exists are broken. Exit status: 0 nothing broken, 1 something broken.

            Examples:
              mcp-push doctor
              mcp-push doctor --json
            """)

    @Flag(help: "Print the checks as JSON.")
    var json = false

    struct Check: Encodable {
        enum State: String, Encodable { case ok, warn, broken, info }
        let area: String
        let state: State
        let detail: String
    }

    func run() async throws {
        var checks: [Check] = []
        let environment = ProcessInfo.processInfo.environment
        let binary = ThisBinary.path ?? ""
        checks += await Self.configurationChecks(environment: environment)
        for agent in Agent.allCases {
            checks += Self.agentChecks(agent, binary: binary, environment: environment)
        }
        let broken = checks.filter { $0.state == .broken }.count
        if json {
            struct Report: Encodable {
                let binary: String
                let version: String
                let broken: Int
                let checks: [Check]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(Report(binary: binary, version: PushCoreVersion.current, broken: broken, checks: checks))) ?? Data()
            Output.write(String(decoding: data, as: UTF8.self))
        } else {
            Output.write("mcp-push \(PushCoreVersion.current) at \(binary)")
            var area = ""
            for check in checks {
                if check.area != area {
                    area = check.area
                    Output.write("\n\(area)")
                }
                let label = check.state == .ok ? "ok" : check.state.rawValue.uppercased()
                Output.write("  \(label.padding(toLength: 7, withPad: " ", startingAt: 0))\(check.detail)")
            }
            Output.write(broken == 0
                ? "\nNothing broken. `mcp-push test` sends a test message to every configured channel."
                : "\n\(broken) broken. Fix those lines, then `mcp-push test` sends a test message to every configured channel.")
        }
        if broken > 0 { throw ExitCode(1) }
    }

    static func configurationChecks(environment: [String: String]) async -> [Check] {
        var checks: [Check] = []
        let configuration: Configuration
        do {
            configuration = try Configuration.load(environment: environment)
        } catch {
            return [Check(area: "Configuration", state: .broken, detail: error.description)]
        }
        if let file = configuration.sourceFile {
            checks.append(Check(area: "Configuration", state: .ok, detail: "config file \(file) (the environment wins over it)"))
            if let warning = ConfigFileExposure.warning(for: configuration, environment: environment) {
                checks.append(Check(area: "Configuration", state: .warn, detail: warning))
            }
        } else {
            checks.append(Check(area: "Configuration", state: .info, detail: "no config.sh found (MCP_PUSH_CONFIG, ~/.config/mcp-push/config.sh, ./config.sh); using the environment only"))
        }

        let notifier: Notifier
        do {
            notifier = try Notifier(configuration: configuration, logger: .init(label: "mcp-push", factory: { _ in SwiftLogNoOpLogHandler() }), store: .shared)
        } catch {
            return checks + [Check(area: "Configuration", state: .broken, detail: "\(error)")]
        }
        let statuses = await notifier.channelStatuses()
        for status in statuses {
            switch status.state {
            case .configured where status.allowed:
                checks.append(Check(area: "Channels", state: .ok, detail: "\(status.id): \(status.target ?? "")"))
            case .configured:
                checks.append(Check(area: "Channels", state: .warn, detail: "\(status.id): configured but left out by MCP_PUSH_CHANNELS"))
            case .misconfigured:
                checks.append(Check(area: "Channels", state: .broken, detail: "\(status.id): \(status.problem ?? "misconfigured")"))
            case .off: break
            }
        }
        if !statuses.contains(where: { $0.state == .configured && $0.allowed }) {
            checks.append(Check(area: "Channels", state: .broken, detail: "no channel configured: nothing would be sent (README, \"Set up in a minute\"; docs/CHANNEL_CONFIG.md)"))
        }

        do {
            let approver = try Approver(configuration: configuration, notifier: notifier, logger: notifier.logger)
            if let reason = approver.unavailableReason {
                checks.append(Check(area: "Approvals", state: .info, detail: "not asked on the phone: \(reason) (docs/APPROVALS.md)"))
            } else {
                let page = approver.settings.publicURL.map { " (page at \($0)\(ApprovalPages.pathPrefix)…, served by `mcp-push serve --transport http`)" } ?? ""
                checks.append(Check(
                    area: "Approvals", state: .ok,
                    detail: "permission prompts and notify_ask answered from \(approver.answeringChannels.joined(separator: ", "))\(page); wait \(Int(approver.settings.timeout.seconds)) s"))
            }
        } catch {
            checks.append(Check(area: "Approvals", state: .broken, detail: error.description))
        }

        for rule in notifier.deliveryRules {
            checks.append(Check(area: "Delivery", state: .info, detail: rule))
        }

        let state = await notifier.storeStatus()
        if let problem = state.problem {
            // The problem names the file or the database it is about.
            checks.append(Check(area: "State", state: .broken, detail: "\(problem) (history and the outbox would not outlive a process)"))
        } else {
            checks.append(Check(area: "State", state: .ok, detail: "\(state.location), schema version \(state.schemaVersion.map(String.init) ?? "unknown")"))
            let entries = (try? await notifier.outboxEntries()) ?? []
            let expired = entries.filter { $0.state == .expired }.count
            let waiting = entries.count - expired
            if waiting > 0 {
                checks.append(Check(area: "State", state: .info, detail: "\(waiting) deliveries waiting in the outbox (`mcp-push outbox`)"))
            }
            if expired > 0 {
                checks.append(Check(area: "State", state: .warn, detail: "\(expired) deliveries expired unsent (`mcp-push outbox`)"))
            }
        }
        await notifier.shutdown()
        return checks
    }

    /// An agent's set-up in every scope that has something of ours, with the binaries it names.
    static func agentChecks(_ agent: Agent, binary: String, environment: [String: String]) -> [Check] {
        let area = "Agents"
        let name = agent.displayName
        let directory = FileManager.default.currentDirectoryPath
        let cli = ExternalCommand.find(agent.rawValue, environment: environment)
        var found: [String] = []
        var checks: [Check] = []
        var named: [String] = []
        for scope in AgentFiles.scopes(agent) {
            let files = AgentFiles(agent: agent, scope: scope, environment: environment, directory: directory)
            if let server = files.registeredCommand() {
                found.append("MCP server (\(scope))")
                named.append(server)
            }
            guard let text = try? String(contentsOfFile: files.hooksFile, encoding: .utf8) else { continue }
            let document: JSONDocument
            do {
                document = try JSONDocument(parsing: text)
            } catch {
                checks.append(Check(area: area, state: .broken, detail: "\(name): cannot read \(files.display(files.hooksFile)): \(error)"))
                continue
            }
            let hooks = Wiring.hooks(in: document, agent: agent)
            if !hooks.isEmpty {
                let events = Set(hooks.map(\.event))
                let missing = Wiring.hookEvents(agent).filter { !events.contains($0) }
                found.append("hooks (\(scope)): \(Wiring.hookEvents(agent).filter(events.contains).joined(separator: ", "))")
                if !missing.isEmpty {
                    checks.append(Check(area: area, state: .warn, detail: "\(name): no hook for \(missing.joined(separator: ", ")) in \(files.display(files.hooksFile)); run `mcp-push install \(agent.rawValue)\(scope == "user" ? "" : " --scope \(scope)")`"))
                }
                named += hooks.map(\.binary)
            }
            if agent == .codex, let config = try? String(contentsOfFile: files.codexConfig, encoding: .utf8),
                case .some(let notify?) = TOMLLines(config).topLevelStrings("notify"), let program = notify.first
            {
                if Wiring.binary(inHookCommand: program + " hook codex", agent: .codex) != nil {
                    found.append("notify")
                    named.append(program)
                } else {
                    checks.append(Check(area: area, state: .info, detail: "\(name): notify runs \(program), not mcp-push (finished turns come only through hooks you add)"))
                }
            }
        }
        for path in Set(named).sorted() {
            if !FileManager.default.isExecutableFile(atPath: path) {
                checks.append(Check(area: area, state: .broken, detail: "\(name) runs \(path), which does not exist (stale); run `mcp-push install \(agent.rawValue)` to point it here"))
            } else if path != binary {
                checks.append(Check(area: area, state: .warn, detail: "\(name) runs \(path), not this binary (\(binary))"))
            }
        }
        // Installed: its command is on PATH, or its user directory (~/.claude, ~/.codex, ~/.gemini) exists,
        // which it creates on first run even before any settings file.
        let userFile = AgentFiles(agent: agent, scope: "user", environment: environment, directory: directory).hooksFile
        let installed = cli != nil || FileManager.default.fileExists(atPath: (userFile as NSString).deletingLastPathComponent)
        if found.isEmpty {
            let detail = installed
                ? "\(name): mcp-push is not set up; run `mcp-push install \(agent.rawValue)`"
                : "\(name): not installed here"
            return checks + [Check(area: area, state: .info, detail: detail)]
        }
        if !found.contains(where: { $0.hasPrefix("MCP server") }) {
            checks.append(Check(area: area, state: .warn, detail: "\(name): hooks are set but the MCP server is not registered (no notify_send tool); run `mcp-push install \(agent.rawValue)`"))
        }
        return [Check(area: area, state: .ok, detail: "\(name): \(found.joined(separator: "; "))")] + checks
    }
}
