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

    public init(title: String, body: String, url: String? = nil) {
        self.title = title
        self.body = body
        self.url = url
    }

    /// For services whose text field may not be empty: the body, or the title when there is none.
    public var bodyOrTitle: String { body.isEmpty ? title : body }

    /// Title and body as one plain-text block, for services with a single text field.
    public var text: String {
        body.isEmpty ? title : "\(title)\n\n\(body)"
    }
}
