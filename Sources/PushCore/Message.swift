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
    /// How to read `body`: as written, or as Markdown each service renders its own way. Titles are always text.
    public var format: Format
    /// The service's id of an earlier message this one replaces in place (a run's evolving message),
    /// for a service that can edit; the others send it as a new message.
    public var replacing: String?

    public init(title: String, body: String, url: String? = nil, level: Level = .info, format: Format = .text) {
        self.title = title
        self.body = body
        self.url = url
        self.level = level
        self.format = format
    }

    /// For services whose text field may not be empty: the body, or the title when there is none.
    public var bodyOrTitle: String { body.isEmpty ? title : body }

    /// Title and body as one plain-text block, for services with a single text field.
    public var text: String {
        body.isEmpty ? title : "\(title)\n\n\(body)"
    }

    /// Title and Markdown body as one Markdown text, for services with a single Markdown field:
    /// the title in bold, escaped, since a title is always text.
    public var markdownText: String {
        let heading = "**\(Markdown.escaped(title))**"
        return body.isEmpty ? heading : "\(heading)\n\n\(body)"
    }

    /// The body as plain text: a Markdown body without its marks.
    public var plainBody: String {
        format == .markdown ? Markdown.plainText(body) : body
    }
}

/// How a message's body is read: `text` is shown as written everywhere (never read as markup),
/// `markdown` is rendered where the service can and shown as plain text elsewhere.
public enum Format: String, Sendable, Hashable, CaseIterable {
    case text, markdown
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
