/// What `mcp-push install <agent>` puts into an agent's settings, and takes out again: pure
/// text-to-text edits, so every case is testable without a home directory.
public enum Wiring {
    /// The events each agent's hooks are wired for. Codex's finished turns come through `notify`
    /// (wiring its Stop hook too would push each turn twice).
    public static func hookEvents(_ agent: Agent) -> [String] {
        switch agent {
        case .claude: return ["Stop", "StopFailure", "Notification", "UserPromptSubmit", "SessionStart", "PermissionRequest"]
        case .codex: return ["StopFailure", "UserPromptSubmit", "PermissionRequest"]
        case .gemini: return ["AfterAgent", "Notification", "BeforeAgent"]
        }
    }

    /// The hook's timeout as the agent counts it (Gemini in milliseconds): above MCP_PUSH_HOOK_DEADLINE's 5 s,
    /// and for a permission prompt above MCP_PUSH_APPROVAL_TIMEOUT's 120 s (the phone's answer is waited for).
    static func timeout(_ agent: Agent, event: String) -> JSONDocument.Plain {
        if event == permissionEvent { return .literal("180") }
        return .literal(agent == .gemini ? "10000" : "10")
    }

    /// The event whose hook waits for an answer from the phone.
    public static let permissionEvent = "PermissionRequest"

    /// The command line a hook runs: the binary, quoted for the shell when it has to be.
    public static func hookCommand(binary: String, agent: Agent) -> String {
        "\(shellQuoted(binary)) hook \(agent.rawValue)"
    }

    public static func shellQuoted(_ word: String) -> String {
        let plain = word.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || "/._-+=:,@%".unicodeScalars.contains(scalar)
        }
        return plain && !word.isEmpty ? word : "'" + word.replacingAll("'", with: #"'\''"#) + "'"
    }

    /// The binary an mcp-push hook command names, when `command` is one for `agent`.
    public static func binary(inHookCommand command: String, agent: Agent) -> String? {
        let suffix = " hook \(agent.rawValue)"
        guard command.hasSuffix(suffix) else { return nil }
        var program = String(command.dropLast(suffix.count))
        if program.hasPrefix("'") && program.hasSuffix("'") && program.count >= 2 {
            program = String(program.dropFirst().dropLast()).replacingAll(#"'\''"#, with: "'")
        } else if program.hasPrefix("\"") && program.hasSuffix("\"") && program.count >= 2 {
            program = String(program.dropFirst().dropLast())
        }
        // The executable's own name only: `mcp-pushover hook claude` is someone else's program, and
        // uninstall must never take it out.
        let name = program.split(separator: "/").last.map(String.init) ?? program
        return name == "mcp-push" ? program : nil
    }

    // MARK: Hooks in a JSON settings file (Claude Code, Codex hooks.json, Gemini CLI)

    /// What an edit did, in words a person reads.
    public struct Change: Sendable, Equatable {
        public var added: [String] = []
        public var updated: [String] = []
        public var removed: [String] = []
        public var notes: [String] = []

        public init() {}

        /// Two edits of one file, said as one.
        public mutating func merge(_ other: Change) {
            added += other.added
            updated += other.updated
            removed += other.removed
            notes += other.notes
        }

        public var isEmpty: Bool { added.isEmpty && updated.isEmpty && removed.isEmpty }

        public var summary: String {
            var parts: [String] = []
            if !added.isEmpty { parts.append("added \(added.joined(separator: ", "))") }
            if !updated.isEmpty { parts.append("updated \(updated.joined(separator: ", "))") }
            if !removed.isEmpty { parts.append("removed \(removed.joined(separator: ", "))") }
            return parts.isEmpty ? "already as wanted" : parts.joined(separator: "; ")
        }
    }

    /// Where our hook sits: event, group index, index of the hook inside the group, its binary.
    public struct HookPlace: Sendable, Equatable {
        public let event: String
        public let group: Int
        public let hook: Int
        public let binary: String
    }

    /// Every mcp-push hook for `agent` in a settings document.
    public static func hooks(in document: JSONDocument, agent: Agent) -> [HookPlace] {
        var places: [HookPlace] = []
        for event in document.keys(at: ["hooks"]) ?? [] {
            guard let groups = document.plain(at: ["hooks", event])?.array else { continue }
            for (groupIndex, group) in groups.enumerated() {
                for (hookIndex, hook) in (group["hooks"]?.array ?? []).enumerated() {
                    if let command = hook["command"]?.string, let binary = binary(inHookCommand: command, agent: agent) {
                        places.append(HookPlace(event: event, group: groupIndex, hook: hookIndex, binary: binary))
                    }
                }
            }
        }
        return places
    }

    /// Adds (or points at `binary`) the hooks for the agent's events; other hooks are left alone.
    public static func installHooks(into text: String?, agent: Agent, binary: String) throws(JSONDocumentError) -> (String, Change) {
        var document = try JSONDocument(parsing: text.flatMap { $0.isEmpty ? nil : $0 } ?? "{}\n")
        guard document.keys(at: []) != nil else { throw .notAnObject("") }
        var change = Change()
        let command = hookCommand(binary: binary, agent: agent)
        func group(for event: String) -> JSONDocument.Plain {
            let hook: JSONDocument.Plain = .object([("type", .string("command")), ("command", .string(command)), ("timeout", timeout(agent, event: event))])
            var group: [(String, JSONDocument.Plain)] = agent == .gemini ? [] : [("matcher", .string(""))]
            group.append(("hooks", .array([hook])))
            return .object(group)
        }
        if document.keys(at: ["hooks"]) == nil {
            if document.plain(at: ["hooks"]) != nil { throw .notAnObject("hooks") }
            try document.insert("hooks", .object([]), intoObjectAt: [])
        }
        for event in hookEvents(agent) {
            let existing = hooks(in: document, agent: agent).filter { $0.event == event }
            if let place = existing.first {
                let path = ["hooks", event]
                if place.binary != binary {
                    guard let groups = document.plain(at: path)?.array, case .object(var fields)? = groups[place.group]["hooks"]?.array?[place.hook] else { continue }
                    fields = fields.map { $0.0 == "command" ? ($0.0, .string(command)) : $0 }
                    try replaceHook(in: &document, event: event, place: place, with: .object(fields))
                    change.updated.append(event)
                }
                continue
            }
            if document.plain(at: ["hooks", event]) == nil {
                try document.insert(event, .array([group(for: event)]), intoObjectAt: ["hooks"])
            } else {
                try document.append(group(for: event), toArrayAt: ["hooks", event])
            }
            change.added.append(event)
        }
        if agent == .gemini, document.plain(at: ["tools", "enableHooks"]) == nil {
            // Gemini CLI runs hooks only when enabled; uninstall takes this out with the last hook.
            if document.keys(at: ["tools"]) == nil {
                try document.insert("tools", .object([("enableHooks", .literal("true"))]), intoObjectAt: [])
            } else {
                try document.insert("enableHooks", .literal("true"), intoObjectAt: ["tools"])
            }
            change.added.append("tools.enableHooks")
        }
        return (document.text, change)
    }

    private static func replaceHook(in document: inout JSONDocument, event: String, place: HookPlace, with hook: JSONDocument.Plain) throws(JSONDocumentError) {
        guard let groups = document.plain(at: ["hooks", event])?.array, case .object(var fields) = groups[place.group],
            var hooks = fields.first(where: { $0.0 == "hooks" })?.1.array
        else { return }
        hooks[place.hook] = hook
        fields = fields.map { $0.0 == "hooks" ? ("hooks", .array(hooks)) : $0 }
        try document.replace(elementAt: place.group, inArrayAt: ["hooks", event], with: .object(fields))
    }

    /// Takes out every mcp-push hook for `agent` (whatever binary it names), and what install
    /// added around them once they are gone: an emptied event, `hooks`, Gemini's `tools.enableHooks`.
    public static func uninstallHooks(from text: String, agent: Agent) throws(JSONDocumentError) -> (String, Change) {
        var document = try JSONDocument(parsing: text)
        var change = Change()
        while let place = hooks(in: document, agent: agent).last {
            let path = ["hooks", place.event]
            let groupHooks = document.plain(at: path)?.array?[place.group]["hooks"]?.array ?? []
            if groupHooks.count <= 1 {
                try document.remove(elementAt: place.group, fromArrayAt: path)
            } else if let groups = document.plain(at: path)?.array, case .object(let fields) = groups[place.group] {
                var remaining = groupHooks
                remaining.remove(at: place.hook)
                try document.replace(elementAt: place.group, inArrayAt: path, with: .object(fields.map { $0.0 == "hooks" ? ("hooks", .array(remaining)) : $0 }))
            }
            if document.plain(at: path)?.array?.isEmpty == true { try document.remove(place.event, fromObjectAt: ["hooks"]) }
            if !change.removed.contains(place.event) { change.removed.insert(place.event, at: 0) }
        }
        if !change.removed.isEmpty, document.keys(at: ["hooks"])?.isEmpty == true {
            try document.remove("hooks", fromObjectAt: [])
            if agent == .gemini, document.plain(at: ["tools", "enableHooks"]) == .literal("true") {
                try document.remove("enableHooks", fromObjectAt: ["tools"])
                if document.keys(at: ["tools"])?.isEmpty == true { try document.remove("tools", fromObjectAt: []) }
                change.removed.append("tools.enableHooks")
            }
        }
        return (document.text, change)
    }

    // MARK: MCP server entries we write ourselves (Gemini's settings.json, Codex's config.toml)

    /// `mcpServers.mcp-push` in a Gemini settings document: its command, when there is one.
    public static func geminiServer(in document: JSONDocument) -> String? {
        document.string(at: ["mcpServers", "mcp-push", "command"])
    }

    public static func installGeminiServer(into text: String?, binary: String) throws(JSONDocumentError) -> (String, Change) {
        var document = try JSONDocument(parsing: text.flatMap { $0.isEmpty ? nil : $0 } ?? "{}\n")
        let entry: JSONDocument.Plain = .object([("command", .string(binary))])
        var change = Change()
        switch geminiServer(in: document) {
        case binary?: break
        case .some:
            try document.replace(at: ["mcpServers", "mcp-push"], with: entry)
            change.updated.append("mcpServers.mcp-push")
        case nil:
            if document.keys(at: ["mcpServers"]) == nil {
                try document.insert("mcpServers", .object([("mcp-push", entry)]), intoObjectAt: [])
            } else {
                try document.insert("mcp-push", entry, intoObjectAt: ["mcpServers"])
            }
            change.added.append("mcpServers.mcp-push")
        }
        return (document.text, change)
    }

    public static func uninstallGeminiServer(from text: String) throws(JSONDocumentError) -> (String, Change) {
        var document = try JSONDocument(parsing: text)
        var change = Change()
        if let command = geminiServer(in: document), binary(inHookCommand: command + " hook gemini", agent: .gemini) != nil {
            try document.remove("mcp-push", fromObjectAt: ["mcpServers"])
            if document.keys(at: ["mcpServers"])?.isEmpty == true { try document.remove("mcpServers", fromObjectAt: []) }
            change.removed.append("mcpServers.mcp-push")
        }
        return (document.text, change)
    }

    static let codexServerTable = "mcp_servers.mcp-push"

    /// Codex's `notify`, pointed at `binary` unless the user has a notify program of their own,
    /// which is never overwritten (the note says what to put there instead).
    public static func installCodexConfig(into text: String?, binary: String, writeServer: Bool) -> (String, Change) {
        var toml = TOMLLines(text ?? "")
        var change = Change()
        let wanted = [binary, "hook", "codex"]
        let rawNotify = "[" + wanted.map(TOMLLines.quoted).joined(separator: ", ") + "]"
        switch toml.topLevelStrings("notify") {
        case nil:
            toml.setTopLevel("notify", rawValue: rawNotify)
            change.added.append("notify")
        case .some(let current?) where current == wanted:
            break
        case .some(let current?) where current.count == 3 && current[1...] == ["hook", "codex"]
            && Self.binary(inHookCommand: current[0] + " hook codex", agent: .codex) != nil:
            toml.setTopLevel("notify", rawValue: rawNotify)
            change.updated.append("notify")
        default:
            change.notes.append(
                "notify is set to another program and was left as is; to have mcp-push notify instead, set: notify = \(rawNotify)")
        }
        if writeServer {
            switch toml.string("command", inTable: codexServerTable) {
            case binary?: break
            case .some:
                toml.removeTable(codexServerTable)
                toml.appendTable(codexServerTable, ["command = \(TOMLLines.quoted(binary))"])
                change.updated.append("[\(codexServerTable)]")
            case nil:
                toml.appendTable(codexServerTable, ["command = \(TOMLLines.quoted(binary))"])
                change.added.append("[\(codexServerTable)]")
            }
        }
        return (toml.text, change)
    }

    public static func uninstallCodexConfig(from text: String) -> (String, Change) {
        var toml = TOMLLines(text)
        var change = Change()
        if case .some(let current?) = toml.topLevelStrings("notify"), current.count == 3, current[1...] == ["hook", "codex"],
            binary(inHookCommand: current[0] + " hook codex", agent: .codex) != nil
        {
            toml.removeTopLevel("notify")
            change.removed.append("notify")
        }
        if let command = toml.string("command", inTable: codexServerTable), Self.binary(inHookCommand: command + " hook codex", agent: .codex) != nil {
            toml.removeTable(codexServerTable)
            change.removed.append("[\(codexServerTable)]")
        }
        return (toml.text, change)
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
