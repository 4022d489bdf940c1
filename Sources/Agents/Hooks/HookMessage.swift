import Foundation
import PushCore

/// Where the agent works: the git repository's name (or the folder's) and the branch, read
/// from `.git` directly (a hook runs on every turn: no `git` process for this).
public struct Workspace: Sendable, Equatable {
    public var project: String
    public var branch: String?

    public init(project: String, branch: String? = nil) {
        self.project = project
        self.branch = branch
    }

    public init(directory: String) {
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        let folder = url.lastPathComponent.isEmpty ? directory : url.lastPathComponent
        while true {
            let git = url.appendingPathComponent(".git").path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: git, isDirectory: &isDirectory) {
                self.init(project: url.lastPathComponent, branch: Self.branch(gitPath: git, isDirectory: isDirectory.boolValue, root: url))
                return
            }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { break }
            url = parent
        }
        self.init(project: folder)
    }

    /// `ref: refs/heads/<branch>` in HEAD; a worktree's `.git` file points at its own HEAD.
    private static func branch(gitPath: String, isDirectory: Bool, root: URL) -> String? {
        var directory = gitPath
        if !isDirectory {
            guard let link = try? String(contentsOfFile: gitPath, encoding: .utf8),
                let line = link.split(whereSeparator: \.isNewline).first, line.hasPrefix("gitdir:")
            else { return nil }
            let target = line.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces)
            directory = target.hasPrefix("/") ? target : root.appendingPathComponent(target).path
        }
        guard let head = try? String(contentsOfFile: "\(directory)/HEAD", encoding: .utf8) else { return nil }
        let text = head.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("ref: refs/heads/") else { return nil }  // detached: no branch to name
        return String(text.dropFirst("ref: refs/heads/".count))
    }
}

/// Turns a hook event into the notification a person reads on a lock screen: which agent,
/// which project, what happened, how long it took, and the start of what the agent said.
public enum HookMessage {
    /// How much of the agent's last answer is shown: a few lines, cut cleanly.
    static let excerptLines = 6
    static let excerptCharacters = 400

    public static func message(for event: HookEvent, workspace: Workspace?, turn: Duration?) -> Message {
        let project = workspace?.project
        let subject = project.map { ": \($0)" } ?? ""
        let title: String
        switch event.kind {
        case .failed: title = "❌ \(event.agent.displayName) failed\(subject)"
        case .needsYou, .idle, .permission: title = "⏳ \(event.agent.displayName) needs you\(subject)"
        case .subagent: title = "✅ \(event.agent.displayName) subagent finished\(subject)"
        default: title = "✅ \(event.agent.displayName) finished\(subject)"
        }
        var facts: [String] = []
        if let project { facts.append(workspace?.branch.map { "\(project) (\($0))" } ?? project) }
        if let turn { facts.append("took \(EventFormatter.durationText(turn))") }
        // What the agent said is Markdown (agents write it); the lines we add are text, escaped in it.
        let said = event.text.map(excerpt) ?? ""
        let format: Format = said.isEmpty ? .text : .markdown
        func ours(_ line: String) -> String { format == .markdown ? Markdown.escaped(line) : line }
        var lines: [String] = []
        if !facts.isEmpty { lines.append(ours(facts.joined(separator: " · "))) }
        if event.kind == .failed {
            let error = [event.error, event.errorDetails].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: ": ")
            lines.append(ours("Error: \(error.isEmpty ? "unknown" : error)"))
        }
        if !said.isEmpty {
            if !lines.isEmpty { lines.append("") }
            lines.append(said)
        }
        if lines.isEmpty { lines.append(event.kind == .needsYou ? "Waiting for your answer." : "Done.") }
        let level: Level
        switch event.kind {
        case .failed: level = .error
        case .needsYou, .idle, .permission: level = .warning
        default: level = .success
        }
        return Message(title: title, body: lines.joined(separator: "\n"), level: level, format: format)
    }

    /// A permission prompt as a question for the phone: what the agent wants to run, where, and
    /// `preview` (the tool's input, already redacted and cut).
    public static func permissionQuestion(for event: HookEvent, workspace: Workspace?, preview: String) -> (title: String, detail: String) {
        let tool = event.toolName.flatMap { $0.isEmpty ? nil : $0 } ?? "a tool"
        let title = "🔐 \(event.agent.displayName) wants to run: \(tool)"
        var lines: [String] = []
        if !preview.isEmpty { lines.append(preview) }
        if let project = workspace?.project {
            if !lines.isEmpty { lines.append("") }
            lines.append(workspace?.branch.map { "\(project) (\($0))" } ?? project)
        }
        return (title, lines.isEmpty ? "Allow or deny?" : lines.joined(separator: "\n"))
    }

    /// The first few non-blank lines, cut at a word boundary with an ellipsis when longer.
    static func excerpt(_ text: String) -> String {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var kept = Array(lines.prefix(excerptLines)).joined(separator: "\n")
        var cut = lines.count > excerptLines
        if kept.count > excerptCharacters {
            let prefix = kept.prefix(excerptCharacters)
            let boundary = prefix.lastIndex(where: { $0 == " " || $0 == "\n" }).map { prefix[..<$0] } ?? prefix
            kept = String(boundary)
            cut = true
        }
        return cut ? kept + " …" : kept
    }
}
