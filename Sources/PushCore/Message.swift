/// One notification, as every channel receives it.
///
/// Channels decide how to lay the two parts out for their service; most send
/// `title`, a blank line, then `body` (see ``Message/text``).
public struct Message: Sendable, Hashable {
    public var title: String
    public var body: String
    /// A link to open (an answer page, a report): a service with a field for it gets it there
    /// (Bark `url`, ntfy `click`, a card's button); the others at the end of the text.
    public var url: String?
    /// How urgent it is: each service says it in its own terms (Bark's level, ntfy's priority).
    public var level: Level
    /// Sent without sound where the service allows (quiet hours).
    public var silent = false

    public init(title: String, body: String, url: String? = nil, level: Level = .info) {
        self.title = title
        self.body = body
        self.url = url
        self.level = level
    }

    /// For services whose text field may not be empty: the body, or the title when there is none.
    public var bodyOrTitle: String { body.isEmpty ? title : body }

    /// Title and body as one plain-text block, for services with a single text field.
    public var text: String {
        body.isEmpty ? title : "\(title)\n\n\(body)"
    }
}

/// A message's urgency, lowest first: `MCP_PUSH_LEVEL_<ID>` keeps a channel quiet below one.
public enum Level: String, Sendable, Hashable, CaseIterable, Comparable {
    case info, success, warning, error, critical

    public static func < (lhs: Level, rhs: Level) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// What a title starts with on a service that has no urgency of its own (nothing for info and success).
    var marker: String? {
        switch self {
        case .info, .success: return nil
        case .warning: return "⚠️"
        case .error: return "❌"
        case .critical: return "🚨"
        }
    }
}
