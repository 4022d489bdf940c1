/// The coding agents mcp-push hooks into and registers with.
public enum Agent: String, Sendable, CaseIterable {
    case claude
    case codex
    case gemini

    /// How people call it.
    public var displayName: String {
        switch self {
        case .claude: return "Claude Code"
        case .codex: return "Codex CLI"
        case .gemini: return "Gemini CLI"
        }
    }
}
