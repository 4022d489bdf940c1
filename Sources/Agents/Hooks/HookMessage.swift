import Foundation
import PushCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the agent works: the git repository's name (or the folder's) and the branch, read
/// from `.git` directly (a hook runs on every turn: no `git` process for this).
public struct Workspace: Sendable, Equatable {
    public var project: String
    public var branch: String?

    public init(project: String, branch: String? = nil) {
        self.project = project
        self.branch = branch
    }

    /// The git repository holding `directory` (its folder name and branch), else the folder's name.
    /// Paths and files by hand: Foundation's URL and FileManager cost a hook about 2 M instructions of
    /// run-time type lookups (docs/PERFORMANCE.md).
    public init(directory: String) {
        let components = Self.absoluteComponents(directory)
        for depth in stride(from: components.count, through: 0, by: -1) {
            let root = "/" + components[..<depth].joined(separator: "/")
            let git = (depth == 0 ? "" : root) + "/.git"
            var info = stat()
            guard stat(git, &info) == 0 else { continue }
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            self.init(project: components[..<depth].last ?? "/", branch: Self.branch(gitPath: git, isDirectory: isDirectory, root: root))
            return
        }
        self.init(project: components.last ?? directory)
    }

    /// `directory` as absolute path components, `.` and `..` resolved as written (no symbolic links followed).
    private static func absoluteComponents(_ directory: String) -> [String] {
        var path = directory
        if !path.hasPrefix("/"), let here = getcwd(nil, 0) {
            path = String(cString: here) + "/" + path
            free(here)
        }
        var components: [String] = []
        for component in path.split(separator: "/") where component != "." {
            if component == ".." { _ = components.popLast() } else { components.append(String(component)) }
        }
        return components
    }

    /// `ref: refs/heads/<branch>` in HEAD; a worktree's `.git` file points at its own HEAD.
    private static func branch(gitPath: String, isDirectory: Bool, root: String) -> String? {
        var directory = gitPath
        if !isDirectory {
            guard let link = smallFile(gitPath), let line = link.split(whereSeparator: \.isNewline).first, line.hasPrefix("gitdir:")
            else { return nil }
            let target = String(line.dropFirst("gitdir:".count)).trimmingWhitespace()
            directory = target.hasPrefix("/") ? target : root + "/" + target
        }
        guard let head = smallFile("\(directory)/HEAD") else { return nil }
        let text = head.trimmingWhitespace()
        guard text.hasPrefix("ref: refs/heads/") else { return nil }  // detached: no branch to name
        return String(text.dropFirst("ref: refs/heads/".count))
    }

    /// The first 4 KiB of a file as text (HEAD and a worktree's `.git` are a line each).
    private static func smallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = read(descriptor, &bytes, bytes.count)
        guard count > 0 else { return nil }
        return String(decoding: bytes[..<count], as: UTF8.self)
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
        // trimmingWhitespace, not Foundation's trimmingCharacters(in:): its first use costs a hook 1.3 M instructions.
        let lines = text.split(whereSeparator: \.isNewline).map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
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
