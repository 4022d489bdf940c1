import Agents
import ArgumentParser
import Foundation

/// What `install` and `uninstall` share: which agent, where, and whether to only show.
struct InstallOptions: ParsableArguments {
    @Argument(help: "claude, codex or gemini.")
    var agent: String

    @Option(help: "Claude Code: user (default), project or local; Gemini CLI: user or project; Codex: user.")
    var scope: String?

    @Flag(help: "Show the commands and the changes to each file; change nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("The mcp-push binary the agent runs. (default: this one)", visibility: .hidden))
    var binary: String?

    func validate() throws {
        guard let agent = Agent(rawValue: agent.lowercased()) else {
            throw ValidationError("unknown agent '\(agent)'; use claude, codex or gemini")
        }
        if let scope, !AgentFiles.scopes(agent).contains(scope) {
            throw ValidationError("\(agent.displayName) has no scope '\(scope)'; use \(AgentFiles.scopes(agent).joined(separator: " or "))")
        }
        if let binary, !binary.hasPrefix("/") { throw ValidationError("--binary must be an absolute path") }
    }

    var files: AgentFiles {
        let agent = Agent(rawValue: self.agent.lowercased())!
        return AgentFiles(
            agent: agent, scope: scope ?? AgentFiles.scopes(agent)[0], environment: ProcessInfo.processInfo.environment,
            directory: FileManager.default.currentDirectoryPath)
    }
}

/// One file's edit: its text before (nil: no file yet) and after, and what changed, in words.
struct FileEdit {
    let path: String
    let before: String?
    let after: String
    let change: Wiring.Change
}

/// Reads, edits and writes an agent's files: every edit is planned before anything is written,
/// so a file that cannot be parsed stops the whole install with nothing touched.
struct InstallRun {
    let files: AgentFiles
    let binary: String
    let installing: Bool
    let environment = ProcessInfo.processInfo.environment

    /// The agent's CLI, when installed.
    var cli: String? { ExternalCommand.find(files.cliName, environment: environment) }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    /// The edits for the current files. `serverByFile`: we write the server entry ourselves (no CLI).
    func plan(serverByFile: Bool) throws(InstallFailure) -> [FileEdit] {
        var edits: [String: (before: String?, after: String, change: Wiring.Change)] = [:]
        var order: [String] = []
        // Each file is read once: two edits of one file (Gemini's server and hooks) start from the same text.
        var snapshots: [String: String?] = [:]
        func snapshot(_ path: String) -> String? {
            if let text = snapshots[path] { return text }
            let text = read(path)
            snapshots[path] = .some(text)
            return text
        }
        func edit(_ path: String, _ transform: (String?) throws(JSONDocumentError) -> (String, Wiring.Change)) throws(InstallFailure) {
            let before = snapshot(path)
            let current = edits[path]?.after ?? before
            let result: (String, Wiring.Change)
            do {
                result = try transform(current)
            } catch {
                throw InstallFailure(message: "cannot edit \(files.display(path)): \(error); the file was left untouched", code: 2)
            }
            var change = edits[path]?.change ?? Wiring.Change()
            change.merge(result.1)
            if edits[path] == nil { order.append(path) }
            edits[path] = (before, result.0, change)
        }
        let agent = files.agent
        if installing {
            if agent == .gemini && serverByFile { try edit(files.hooksFile) { text throws(JSONDocumentError) in try Wiring.installGeminiServer(into: text, binary: binary) } }
            if agent == .codex { try edit(files.codexConfig) { text in Wiring.installCodexConfig(into: text, binary: binary, writeServer: serverByFile) } }
            try edit(files.hooksFile) { text throws(JSONDocumentError) in try Wiring.installHooks(into: text, agent: agent, binary: binary) }
        } else {
            if agent == .gemini && serverByFile, snapshot(files.hooksFile) != nil {
                try edit(files.hooksFile) { text throws(JSONDocumentError) in try Wiring.uninstallGeminiServer(from: text ?? "{}") }
            }
            if agent == .codex, snapshot(files.codexConfig) != nil {
                try edit(files.codexConfig) { text in Wiring.uninstallCodexConfig(from: text ?? "") }
            }
            if snapshot(files.hooksFile) != nil {
                try edit(files.hooksFile) { text throws(JSONDocumentError) in try Wiring.uninstallHooks(from: text ?? "{}", agent: agent) }
            }
        }
        return order.compactMap { path in edits[path].map { FileEdit(path: path, before: $0.before, after: $0.after, change: $0.change) } }
    }

    /// Writes an edit: a backup of the old file next to it first, then the new text atomically,
    /// with the old file's permissions. Returns the backup's path.
    func write(_ edit: FileEdit) throws(InstallFailure) -> String? {
        let manager = FileManager.default
        // A settings file that is a link (dotfiles kept elsewhere) is written where it points, and stays a link.
        let path = edit.before == nil ? edit.path : (realpath(edit.path, nil).map { resolved in
            defer { free(resolved) }
            return String(cString: resolved)
        } ?? edit.path)
        let edit = FileEdit(path: path, before: edit.before, after: edit.after, change: edit.change)
        let directory = (edit.path as NSString).deletingLastPathComponent
        var backup: String?
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var permissions = 0o644
            if edit.before != nil {
                permissions = (try? manager.attributesOfItem(atPath: edit.path)[.posixPermissions] as? Int) ?? 0o644
                // Never over an earlier backup (an install and an uninstall in the same second).
                let base = "\(edit.path).mcp-push-backup-\(Self.stamp())"
                var copy = base
                var number = 1
                while manager.fileExists(atPath: copy) {
                    number += 1
                    copy = "\(base)-\(number)"
                }
                try manager.copyItem(atPath: edit.path, toPath: copy)
                backup = copy
            }
            // A settings file uninstall emptied (`{}`, or a config.toml with nothing left) is one install created: it goes.
            let remaining = edit.after.trimmingCharacters(in: .whitespacesAndNewlines)
            if !installing, remaining == "{}" || remaining.isEmpty {
                try manager.removeItem(atPath: edit.path)
                return backup
            }
            let temporary = "\(edit.path).mcp-push-\(getpid()).tmp"
            guard manager.createFile(atPath: temporary, contents: Data(edit.after.utf8), attributes: [.posixPermissions: permissions]) else {
                throw CocoaError(.fileWriteUnknown)
            }
            guard rename(temporary, edit.path) == 0 else {
                try? manager.removeItem(atPath: temporary)
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        } catch {
            throw InstallFailure(message: "cannot write \(files.display(edit.path)): \(error.localizedDescription)", code: 2)
        }
        return backup
    }

    static func stamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}

struct InstallFailure: Error {
    let message: String
    let code: Int32
}

/// `mcp-push install <agent>`.
struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register mcp-push with an agent and wire its hooks, in one command.",
        discussion: """
            Registers the MCP server with this binary's absolute path (through the agent's own `mcp add` when \
            its CLI is installed) and adds mcp-push's hooks to the agent's settings, keeping every key, hook \
            and server already there. A second run changes nothing. Each file is backed up next to itself \
            before it is changed (NAME.mcp-push-backup-<time>); a file that is not valid JSON is left untouched \
            and named with the line at fault. Codex's `notify` is set only when it is unset or already mcp-push.

            Claude Code: ~/.claude/settings.json (--scope project: .claude/settings.json, --scope local: \
            .claude/settings.local.json), hooks Stop, StopFailure, Notification, UserPromptSubmit, SessionStart. \
            Codex CLI: notify in ~/.codex/config.toml, hooks StopFailure and UserPromptSubmit in ~/.codex/hooks.json. \
            Gemini CLI: ~/.gemini/settings.json, hooks AfterAgent, Notification, BeforeAgent.

            Exit status: 0 done (or nothing to do), 1 the agent's own command failed, 2 a file could not be read or written.

            Examples:
              mcp-push install claude
              mcp-push install codex --dry-run
              mcp-push install gemini --scope project
            """)

    @OptionGroup var options: InstallOptions

    func run() throws {
        let files = options.files
        guard let binary = options.binary ?? ThisBinary.path else {
            Output.writeError("mcp-push: cannot tell where this binary is; pass --binary /absolute/path/to/mcp-push")
            throw ExitCode(2)
        }
        try InstallCommand(files: files, binary: binary, installing: true, dryRun: options.dryRun).run()
    }
}

/// `mcp-push uninstall <agent>`.
struct Uninstall: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove what `mcp-push install` added to an agent.",
        discussion: """
            Removes mcp-push's hooks (whatever binary path they name), its MCP server registration and, for \
            Codex, a `notify` that runs mcp-push; nothing else. Files are backed up first, as with install.

            Examples:
              mcp-push uninstall claude
              mcp-push uninstall codex --dry-run
            """)

    @OptionGroup var options: InstallOptions

    func run() throws {
        try InstallCommand(files: options.files, binary: options.binary ?? ThisBinary.path ?? "", installing: false, dryRun: options.dryRun).run()
    }
}

/// The steps of an install or uninstall, and what they print.
struct InstallCommand {
    let files: AgentFiles
    let binary: String
    let installing: Bool
    let dryRun: Bool

    func run() throws {
        let run = InstallRun(files: files, binary: binary, installing: installing)
        let agent = files.agent
        let cli = run.cli
        let registered = files.registeredCommand()
        // The server goes through the agent's CLI when it is installed; Codex and Gemini entries are
        // written directly otherwise (Claude Code's file is its own: we print the command instead).
        let serverByFile = cli == nil && agent != .claude
        var commands: [[String]] = []
        var notes: [String] = []
        if installing {
            if registered == binary {
                notes.append("MCP server: already registered (\(binary))")
            } else if cli != nil {
                if registered != nil { commands.append(files.removeServer) }
                commands.append(files.addServer(binary: binary))
            } else if agent == .claude {
                notes.append("MCP server: `claude` is not on PATH; register it with: \(ExternalCommand.display(files.addServer(binary: binary)))")
            }
        } else if cli != nil && registered.map({ Wiring.binary(inHookCommand: $0 + " hook \(agent.rawValue)", agent: agent) != nil }) ?? true {
            // Ours, or not in the files we read (the CLI knows best): ask it to remove the server.
            commands.append(files.removeServer)
        }

        let edits: [FileEdit]
        do {
            edits = try run.plan(serverByFile: serverByFile)
        } catch {
            Output.writeError("mcp-push: \(error.message)")
            throw ExitCode(error.code)
        }
        let header = "\(agent.displayName), \(files.scope) scope:"
        let changing = edits.filter { $0.before != $0.after }
        let allNotes = notes + edits.flatMap(\.change.notes)
        if commands.isEmpty && changing.isEmpty {
            Output.write(header)
            for note in allNotes { Output.write("  \(note)") }
            Output.write(installing ? "  Nothing to change: mcp-push is already installed." : "  Nothing to remove: mcp-push is not installed here.")
            return
        }
        if dryRun {
            Output.write(header + " (dry run: nothing is changed)")
            for command in commands { Output.write("  would run: \(ExternalCommand.display(command))") }
            for note in allNotes { Output.write("  \(note)") }
            for edit in changing {
                Output.write("  \(files.display(edit.path)): \(edit.change.summary)")
                Output.write(UnifiedDiff.render(old: edit.before ?? "", new: edit.after, name: files.display(edit.path)))
            }
            return
        }

        Output.write(header)
        var failed = false
        for command in commands {
            guard let result = ExternalCommand.run(command, environment: run.environment) else {
                Output.write("  could not run: \(ExternalCommand.display(command))")
                failed = true
                continue
            }
            if result.status == 0 {
                Output.write("  ran: \(ExternalCommand.display(command))")
            } else if !installing {
                // Removing what is not there is not a failure of uninstall.
                Output.write("  ran: \(ExternalCommand.display(command)) (exit \(result.status)\(result.output.isEmpty ? "" : ": " + result.output))")
            } else {
                Output.write("  FAILED (exit \(result.status)): \(ExternalCommand.display(command))\(result.output.isEmpty ? "" : ": " + result.output)")
                failed = true
            }
        }
        // The agent's CLI may have rewritten its settings file: plan again on what is there now.
        do {
            for edit in try run.plan(serverByFile: serverByFile) where edit.before != edit.after {
                let backup = try run.write(edit)
                let removed = !FileManager.default.fileExists(atPath: edit.path) ? "; nothing else in it, file removed" : ""
                let backupNote = backup.map { " (backup: \(files.display($0))\(removed))" } ?? " (new file)"
                Output.write("  \(files.display(edit.path)): \(edit.change.summary)\(backupNote)")
            }
        } catch {
            Output.writeError("mcp-push: \(error.message)")
            throw ExitCode(error.code)
        }
        for note in allNotes { Output.write("  \(note)") }
        if installing {
            Output.write("Check it with `mcp-push doctor`; undo with `mcp-push uninstall \(agent.rawValue)`.")
        }
        if failed { throw ExitCode(1) }
    }
}
