/// Markdown shown three ways: as plain text (services that render nothing), in Telegram's HTML
/// (its handful of tags, every `<`, `&`, `>` of the user's escaped, so Telegram never rejects it) and
/// as an e-mail's HTML part. Links open only for http(s) and mailto URLs; others are shown as text.
extension Markdown {
    /// What a reader sees, without marks: `text (url)` for a link, `•` for a bullet.
    package static func plainText(_ source: String) -> String {
        plainText(parse(source))
    }

    package static func plainText(_ blocks: [Block]) -> String {
        join(blocks) { block in
            switch block {
            case .paragraph(let inlines), .heading(_, let inlines): return plain(inlines)
            case .item(let marker, let depth, let inlines): return indent(depth) + (marker ?? "•") + " " + plain(inlines)
            case .quote(let inlines): return plain(inlines).split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n")
            case .code(_, let code): return code
            case .rule: return "———"
            }
        }
    }

    /// Telegram's HTML (`parse_mode` HTML), one string per block, to be joined or split between them.
    package static func telegramHTML(_ blocks: [Block]) -> [String] {
        blocks.map { block in
            switch block {
            case .paragraph(let inlines): return html(inlines)
            case .heading(_, let inlines): return "<b>" + html(inlines) + "</b>"
            case .item(let marker, let depth, let inlines): return indent(depth) + (marker ?? "•") + " " + html(inlines)
            case .quote(let inlines): return "<blockquote>" + html(inlines) + "</blockquote>"
            case .code(let language, let code):
                let open = language.map { "<pre><code class=\"language-\($0)\">" } ?? "<pre>"
                return open + HTMLText.escaped(code) + (language == nil ? "</pre>" : "</code></pre>")
            case .rule: return "———"
            }
        }
    }

    /// The blocks of `telegramHTML` joined as the text between them would be.
    package static func joined(_ blocks: [Block], _ rendered: [String]) -> String {
        var text = ""
        for (index, piece) in rendered.enumerated() {
            if index > 0 { text += separator(blocks[index - 1], blocks[index]) }
            text += piece
        }
        return text
    }

    /// An e-mail's `text/html` part.
    package static func emailHTML(_ source: String) -> String {
        var body = ""
        var lists: [String] = []  // the open list elements, innermost last
        for block in parse(source) {
            var depth = -1
            var kind = ""
            if case .item(let marker, let itemDepth, _) = block {
                depth = itemDepth
                kind = marker == nil ? "ul" : "ol"
            }
            while let innermost = lists.last, lists.count > depth + 1 || (lists.count == depth + 1 && innermost != kind) {
                body += "</\(lists.removeLast())>"
            }
            while lists.count < depth + 1 {
                lists.append(kind)
                body += "<\(kind)>"
            }
            switch block {
            case .paragraph(let inlines): body += "<p>" + html(inlines).replacingOccurrences(of: "\n", with: "<br>") + "</p>"
            case .heading(let level, let inlines): body += "<h\(level)>" + html(inlines) + "</h\(level)>"
            case .item(_, _, let inlines): body += "<li>" + html(inlines).replacingOccurrences(of: "\n", with: "<br>") + "</li>"
            case .quote(let inlines): body += "<blockquote>" + html(inlines).replacingOccurrences(of: "\n", with: "<br>") + "</blockquote>"
            case .code(_, let code): body += "<pre><code>" + HTMLText.escaped(code) + "</code></pre>"
            case .rule: body += "<hr>"
            }
        }
        while let open = lists.popLast() { body += "</\(open)>" }
        return body
    }

    // MARK: Pieces

    private static func join(_ blocks: [Block], _ render: (Block) -> String) -> String {
        joined(blocks, blocks.map(render))
    }

    /// Items of one list follow each other line by line; every other block is a paragraph apart.
    package static func separator(_ previous: Block, _ next: Block) -> String {
        if case .item = previous, case .item = next { return "\n" }
        return "\n\n"
    }

    private static func indent(_ depth: Int) -> String { String(repeating: "  ", count: depth) }

    private static func plain(_ inlines: [Inline]) -> String {
        inlines.map { inline in
            switch inline {
            case .text(let text), .code(let text): return text
            case .strong(let inner), .emphasis(let inner), .strikethrough(let inner): return plain(inner)
            case .link(let label, let url):
                let text = plain(label)
                return text == url || text.isEmpty ? url : "\(text) (\(url))"
            }
        }.joined()
    }

    /// Inline HTML both Telegram and mail clients read; a link inside a link is shown as text.
    private static func html(_ inlines: [Inline], insideLink: Bool = false) -> String {
        inlines.map { inline in
            switch inline {
            case .text(let text): return HTMLText.escaped(text)
            case .code(let code): return "<code>" + HTMLText.escaped(code) + "</code>"
            case .strong(let inner): return "<b>" + html(inner, insideLink: insideLink) + "</b>"
            case .emphasis(let inner): return "<i>" + html(inner, insideLink: insideLink) + "</i>"
            case .strikethrough(let inner): return "<s>" + html(inner, insideLink: insideLink) + "</s>"
            case .link(let label, let url):
                let text = html(label, insideLink: true)
                guard !insideLink, opens(url) else {
                    return plain(label) == url ? HTMLText.escaped(url) : text + " (" + HTMLText.escaped(url) + ")"
                }
                return "<a href=\"\(HTMLText.escaped(url))\">" + (text.isEmpty ? HTMLText.escaped(url) : text) + "</a>"
            }
        }.joined()
    }

    /// Links that may open: the web and mail, never `javascript:` or a file.
    static func opens(_ url: String) -> Bool {
        let lowered = url.lowercased()
        return (lowered.hasPrefix("https://") || lowered.hasPrefix("http://") || lowered.hasPrefix("mailto:"))
            && !url.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "<" || $0 == ">" })
    }
}
