import Agents
import Foundation

/// Where an agent keeps what `install` touches, for one scope, and the agent's own commands
/// for registering an MCP server.
struct AgentFiles {
    let agent: Agent
    let scope: String
    let home: String
    let directory: String

    /// The scopes each agent has (the first is the default).
    static func scopes(_ agent: Agent) -> [String] {
        switch agent {
        case .claude: return ["user", "project", "local"]
        case .codex: return ["user"]
        case .gemini: return ["user", "project"]
        }
    }

    init(agent: Agent, scope: String, environment: [String: String], directory: String) {
        self.agent = agent
        self.scope = scope
        self.home = environment["HOME"] ?? NSHomeDirectory()
        self.directory = directory
        self.codexHome = environment["CODEX_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.codex"
        self.geminiHome = (environment["GEMINI_CLI_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home) + "/.gemini"
    }

    private let codexHome: String
    private let geminiHome: String

    /// The JSON file the hooks go in.
    var hooksFile: String {
        switch (agent, scope) {
        case (.claude, "project"): return directory + "/.claude/settings.json"
        case (.claude, "local"): return directory + "/.claude/settings.local.json"
        case (.claude, _): return home + "/.claude/settings.json"
        case (.codex, _): return codexHome + "/hooks.json"
        case (.gemini, "project"): return directory + "/.gemini/settings.json"
        case (.gemini, _): return geminiHome + "/settings.json"
        }
    }

    /// Codex's config.toml (`notify`, and the server table when `codex` is not installed).
    var codexConfig: String { codexHome + "/config.toml" }

    /// Where the agent records a registered MCP server, and the key path to its command.
    var registration: (file: String, path: [String]) {
        switch (agent, scope) {
        case (.claude, "project"): return (directory + "/.mcp.json", ["mcpServers", "mcp-push", "command"])
        case (.claude, "local"): return (home + "/.claude.json", ["projects", directory, "mcpServers", "mcp-push", "command"])
        case (.claude, _): return (home + "/.claude.json", ["mcpServers", "mcp-push", "command"])
        case (.codex, _): return (codexConfig, [])
        case (.gemini, _): return (hooksFile, ["mcpServers", "mcp-push", "command"])
        }
    }

    /// The agent's CLI, as found on PATH.
    var cliName: String { agent.rawValue }

    func addServer(binary: String) -> [String] {
        switch agent {
        case .claude: return ["claude", "mcp", "add", "--scope", scope, "mcp-push", "--", binary]
        case .codex: return ["codex", "mcp", "add", "mcp-push", "--", binary]
        case .gemini: return ["gemini", "mcp", "add", "-s", scope, "mcp-push", binary]
        }
    }

    var removeServer: [String] {
        switch agent {
        case .claude: return ["claude", "mcp", "remove", "--scope", scope, "mcp-push"]
        case .codex: return ["codex", "mcp", "remove", "mcp-push"]
        case .gemini: return ["gemini", "mcp", "remove", "-s", scope, "mcp-push"]
        }
    }

    /// The command of the registered mcp-push server, as the agent's files hold it (nil: none).
    func registeredCommand() -> String? {
        let (file, path) = registration
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        if agent == .codex { return TOMLLines(text).string("command", inTable: "mcp_servers.mcp-push") }
        return (try? JSONDocument(parsing: text))?.string(at: path)
    }

    /// `~/...` for paths under the home directory, for messages.
    func display(_ path: String) -> String {
        path.hasPrefix(home + "/") ? "~" + path.dropFirst(home.count) : path
    }
}

/// An executable found on PATH, run with a time limit.
enum ExternalCommand {
    static func find(_ name: String, environment: [String: String]) -> String? {
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `arguments` (the first found on PATH); its exit status and what it printed, or nil when it
    /// could not start. An agent CLI that hangs is killed after `limit` seconds.
    static func run(_ arguments: [String], environment: [String: String], limit: TimeInterval = 60) -> (status: Int32, output: String)? {
        guard let executable = find(arguments[0], environment: environment) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + limit, execute: killer)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        killer.cancel()
        return (process.terminationStatus, output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A command line as a person would type it.
    static func display(_ arguments: [String]) -> String {
        arguments.map(Wiring.shellQuoted).joined(separator: " ")
    }
}
