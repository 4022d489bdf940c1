/// Markdown as agents write it (headings, emphasis, code, links, lists, quotes, rules), read once so
/// each service gets it in its own terms: Telegram's few HTML tags, an e-mail's HTML part, plain text
/// where nothing renders it. Ours rather than Ink's: Ink passes raw HTML through and emits tags
/// Telegram rejects; here nothing the user wrote is ever markup, only the tags we emit are.
/// Whatever the input, reading it never fails: what is not Markdown is text.
package enum Markdown {
    package indirect enum Inline: Equatable, Sendable {
        case text(String)
        case strong([Inline])
        case emphasis([Inline])
        case strikethrough([Inline])
        case code(String)
        case link([Inline], url: String)
    }

    package enum Block: Equatable, Sendable {
        case paragraph([Inline])
        case heading(level: Int, [Inline])
        /// A list item: `marker` is nil for a bullet, `"3."` for a numbered one; `depth` counts nesting.
        case item(marker: String?, depth: Int, [Inline])
        case quote([Inline])
        case code(language: String?, String)
        case rule
    }

    package static func parse(_ source: String) -> [Block] {
        var reader = BlockReader()
        let lines = source.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        var index = 0
        while index < lines.count {
            index = reader.read(lines, at: index)
        }
        reader.close()
        return reader.blocks
    }

    /// The text with every character Markdown would read as markup escaped, for services that always
    /// render Markdown (ServerChan) when the message is plain text: marks anywhere, block marks at a
    /// line's start, and `&` only where it would start an entity, so most text is left as it was.
    package static func escaped(_ text: String) -> String {
        // One pass by hand: the two regular expressions this took before cost a hook 2.3 M instructions
        // (Swift's Regex builds its program on first use; docs/PERFORMANCE.md).
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var lineStart = true  // only spaces since the line began
        var numberAtLineStart = false  // digits (after blanks) since the line began: "1." would open a list
        var blanksAtLineStart = true
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if "\\`*_[]<|~".contains(character) || (lineStart && "#>-+=".contains(character))
                || (numberAtLineStart && (character == "." || character == ")"))
                || (character == "&" && startsEntity(text[next...]))
            {
                result.append("\\")
            }
            result.append(character)
            let isDigit = character.isASCII && character.isNumber
            numberAtLineStart = isDigit && (numberAtLineStart || blanksAtLineStart)
            blanksAtLineStart = character.isNewline || (blanksAtLineStart && character.isWhitespace)
            lineStart = character == "\n" || (lineStart && character == " ")
            index = next
        }
        return result
    }

    /// Whether what follows an `&` makes HTML read it as an entity: `name;` or `#123;`. Each `&` looks at
    /// its own run of letters and digits only, so the whole text is read about twice at most.
    private static func startsEntity(_ rest: Substring) -> Bool {
        var rest = rest
        if rest.first == "#" { rest = rest.dropFirst() }
        let name = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber) }
        return !name.isEmpty && rest.dropFirst(name.count).first == ";"
    }
}

/// Reads lines into blocks; the open paragraph, quote or list item gathers lines until something else starts.
private struct BlockReader {
    var blocks: [Markdown.Block] = []
    private var open: (kind: Open, lines: [Substring])?

    private enum Open {
        case paragraph
        case quote
        case item(marker: String?, depth: Int)
    }

    mutating func close() {
        guard let open else { return }
        let text = open.lines.joined(separator: "\n")
        let inlines = InlineReader.read(text[...])
        switch open.kind {
        case .paragraph: blocks.append(.paragraph(inlines))
        case .quote: blocks.append(.quote(inlines))
        case .item(let marker, let depth): blocks.append(.item(marker: marker, depth: depth, inlines))
        }
        self.open = nil
    }

    /// Reads the line at `index` (and a code block's lines after it); returns the next line to read.
    mutating func read(_ lines: [Substring], at index: Int) -> Int {
        let line = lines[index]
        let indent = line.prefix { $0 == " " || $0 == "\t" }
        let trimmed = line.dropFirst(indent.count)
        if trimmed.allSatisfy(\.isWhitespace) {
            close()
            return index + 1
        }
        if let fence = Self.fence(trimmed) {
            close()
            let language = trimmed.dropFirst(fence.count).trimmingWhitespace().split(separator: " ").first.map(String.init)
            var end = index + 1
            var code: [Substring] = []
            while end < lines.count {
                let candidate = lines[end].drop { $0 == " " }
                if candidate.hasPrefix(fence), candidate.dropFirst(fence.count).allSatisfy({ $0 == fence.first! || $0.isWhitespace }) { break }
                code.append(lines[end])
                end += 1
            }
            blocks.append(.code(language: language.flatMap(Self.safeLanguage), code.joined(separator: "\n")))
            return min(end + 1, lines.count)
        }
        if let heading = Self.heading(trimmed) {
            close()
            blocks.append(.heading(level: heading.level, InlineReader.read(heading.text)))
            return index + 1
        }
        if Self.isRule(trimmed) {
            close()
            blocks.append(.rule)
            return index + 1
        }
        if trimmed.hasPrefix(">") {
            var text = trimmed.dropFirst()
            if text.first == " " { text = text.dropFirst() }
            if case .quote = open?.kind {
                open?.lines.append(text)
            } else {
                close()
                open = (.quote, [text])
            }
            return index + 1
        }
        if let item = Self.item(trimmed) {
            close()
            let width = indent.reduce(0) { $0 + ($1 == "\t" ? 4 : 1) }
            open = (.item(marker: item.marker, depth: min(width / 2, 6)), [item.text])
            return index + 1
        }
        if open == nil {
            open = (.paragraph, [trimmed])
        } else {
            open?.lines.append(trimmed)  // a paragraph, quote or item goes on over plain lines
        }
        return index + 1
    }

    /// "```" or "~~~" (or longer) opening a code block.
    static func fence(_ line: Substring) -> String? {
        for mark in ["`", "~"] {
            let run = line.prefix { String($0) == mark }
            if run.count >= 3, mark == "~" || !line.dropFirst(run.count).contains("`") { return String(run) }
        }
        return nil
    }

    /// A code block's language, as a class name: letters, digits and `+#-_.` only.
    static func safeLanguage(_ language: String) -> String? {
        let kept = language.prefix(32)
        return kept.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+#-_.".contains($0)) }) ? String(kept) : nil
    }

    static func heading(_ line: Substring) -> (level: Int, text: Substring)? {
        let marks = line.prefix { $0 == "#" }
        guard (1...6).contains(marks.count) else { return nil }
        let rest = line.dropFirst(marks.count)
        guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
        var text = rest.trimmingWhitespace()[...]
        // A closing run of #s is not part of the heading.
        let closing = text.reversed().prefix { $0 == "#" }.count
        if closing > 0, closing == text.count || text.dropLast(closing).last == " " {
            text = text.dropLast(closing).trimmingWhitespace()[...]
        }
        return (marks.count, text)
    }

    static func isRule(_ line: Substring) -> Bool {
        let marks = line.filter { !$0.isWhitespace }
        guard marks.count >= 3, let first = marks.first, "-*_".contains(first) else { return false }
        return marks.allSatisfy { $0 == first }
    }

    static func item(_ line: Substring) -> (marker: String?, text: Substring)? {
        if let first = line.first, "-*+".contains(first), line.dropFirst().first == " " {
            return (nil, line.dropFirst(2))
        }
        let digits = line.prefix(while: \.isASCIIDigit)
        guard (1...9).contains(digits.count) else { return nil }
        let rest = line.dropFirst(digits.count)
        guard let mark = rest.first, mark == "." || mark == ")", rest.dropFirst().first == " " else { return nil }
        return (String(digits) + ".", rest.dropFirst(2))
    }
}

/// Reads emphasis, code spans, links and escapes; a mark with no partner is text. Whatever the input,
/// the work stays near linear: a partner is looked for within `window` characters, never twice over
/// the same stretch for the same kind of mark, and nesting stops at `maximumDepth`.
private struct InlineReader {
    static let window = 1024
    static let maximumDepth = 8

    let characters: [Character]
    let depth: Int
    /// For each kind of mark (`*1`, `*2`, a run of backticks), where the text holds no partner for it before.
    private var clearUntil: [String: Int] = [:]
    static let maximumBrackets = 32

    static func read(_ text: Substring, depth: Int = 0) -> [Markdown.Inline] {
        guard depth < maximumDepth else { return text.isEmpty ? [] : [.text(String(text))] }
        var reader = InlineReader(characters: Array(text), depth: depth)
        return reader.read()
    }

    private init(characters: [Character], depth: Int) {
        self.characters = characters
        self.depth = depth
    }

    private mutating func read() -> [Markdown.Inline] {
        var result: [Markdown.Inline] = []
        var pending = ""
        func flush() {
            if !pending.isEmpty { result.append(.text(pending)) }
            pending = ""
        }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\\", index + 1 < characters.count, characters[index + 1].isASCIIPunctuation {
                pending.append(characters[index + 1])
                index += 2
                continue
            }
            if character == "`", let (code, next) = codeSpan(at: index) {
                flush()
                result.append(.code(code))
                index = next
                continue
            }
            if character == "[", let (label, url, next) = link(at: index) {
                flush()
                result.append(.link(Self.read(label[...], depth: depth + 1), url: url))
                index = next
                continue
            }
            if character == "<", let (url, next) = autolink(at: index) {
                flush()
                result.append(.link([.text(url)], url: url))
                index = next
                continue
            }
            if "*_~".contains(character), let (inline, next) = emphasis(at: index) {
                flush()
                result.append(inline)
                index = next
                continue
            }
            // A run of marks that opened nothing stays text as a whole (`**` is not two chances to open).
            let run = character == "`" || "*_~".contains(character) ? run(of: character, at: index) : 1
            pending += String(repeating: character, count: run)
            index += run
        }
        flush()
        return result
    }

    private func run(of mark: Character, at start: Int) -> Int {
        var end = start
        while end < characters.count, characters[end] == mark { end += 1 }
        return end - start
    }

    /// Where looking for a partner of a mark at `start` stops.
    private func horizon(_ start: Int) -> Int { min(characters.count, start + Self.window) }

    /// A code span: a run of backticks up to the next run of the same length.
    private mutating func codeSpan(at start: Int) -> (String, Int)? {
        let width = run(of: "`", at: start)
        let kind = "`\(width)"
        var index = max(start + width, clearUntil[kind] ?? 0)
        while index < horizon(start) {
            guard characters[index] == "`" else {
                index += 1
                continue
            }
            let closing = run(of: "`", at: index)
            if closing == width {
                var code = String(characters[(start + width)..<index]).replacingOccurrences(of: "\n", with: " ")
                if code.count > 2, code.hasPrefix(" "), code.hasSuffix(" "), !code.allSatisfy({ $0 == " " }) {
                    code = String(code.dropFirst().dropLast())
                }
                return (code, index + closing)
            }
            index += closing
        }
        clearUntil[kind] = index
        return nil
    }

    /// `[label](url)`, brackets and parentheses balanced; a title after the URL is dropped.
    private mutating func link(at start: Int) -> (String, String, Int)? {
        guard let close = matching(from: start, open: "[", close: "]"),
            close + 1 < characters.count, characters[close + 1] == "(",
            let end = matching(from: close + 1, open: "(", close: ")")
        else { return nil }
        var destination = String(characters[(close + 2)..<end]).trimmingWhitespace()
        if destination.hasPrefix("<"), let angle = destination.firstIndex(of: ">") {
            destination = String(destination[destination.index(after: destination.startIndex)..<angle])
        } else if let space = destination.firstIndex(where: \.isWhitespace) {
            destination = String(destination[..<space])
        }
        guard !destination.isEmpty else { return nil }
        return (String(characters[(start + 1)..<close]), destination, end + 1)
    }

    private mutating func matching(from start: Int, open: Character, close: Character) -> Int? {
        var depth = 0
        var index = start
        while index < horizon(start) {
            switch characters[index] {
            case "\\": index += 1
            case open:
                depth += 1
                if depth > Self.maximumBrackets { return nil }
            case close:
                depth -= 1
                if depth == 0 { return index }
            case "\n" where open == "(": return nil
            default: break
            }
            index += 1
        }
        return nil
    }

    /// `<https://…>`: a URL in angle brackets.
    private func autolink(at start: Int) -> (String, Int)? {
        guard let end = characters[start..<horizon(start)].firstIndex(where: { $0 == ">" || $0.isWhitespace }), characters[end] == ">" else {
            return nil
        }
        let inside = String(characters[(start + 1)..<end])
        let lowered = inside.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") || lowered.hasPrefix("mailto:"), !inside.contains("<") else {
            return nil
        }
        return (inside, end + 1)
    }

    /// `**strong**`, `__strong__`, `*emphasis*`, `_emphasis_`, `~~struck~~`. A mark opens only before a
    /// non-space and closes only after one; `_` only at word edges, so snake_case stays as written.
    private mutating func emphasis(at start: Int) -> (Markdown.Inline, Int)? {
        let mark = characters[start]
        let width: Int
        switch (mark, run(of: mark, at: start)) {
        case ("~", 2): width = 2
        case ("~", _): return nil
        case (_, 1): width = 1
        default: width = 2
        }
        let kind = "\(mark)\(width)"
        let contentStart = start + width
        guard contentStart < characters.count, !characters[contentStart].isWhitespace else { return nil }
        if mark == "_", start > 0, characters[start - 1].isLetter || characters[start - 1].isNumber { return nil }
        var index = max(contentStart + 1, clearUntil[kind] ?? 0)
        while index + width <= horizon(start) {
            let here = characters[index]
            if here == "\\" {
                index += 2
                continue
            }
            if here == "`" {
                // A mark inside a code span does not close.
                index = codeSpan(at: index)?.1 ?? index + run(of: "`", at: index)
                continue
            }
            if here == mark {
                let closingRun = run(of: mark, at: index)
                let after = index + closingRun
                let fits = closingRun == width || closingRun >= 3
                let leftFlanking = !characters[index - 1].isWhitespace
                let wordEdge = mark != "_" || after >= characters.count || !(characters[after].isLetter || characters[after].isNumber)
                if fits, leftFlanking, wordEdge {
                    let end = index + (closingRun - width)  // `***x***`: the outer marks close here, the inner stay inside
                    guard end > contentStart else { return nil }
                    let inner = Self.read(String(characters[contentStart..<end])[...], depth: depth + 1)
                    let inline: Markdown.Inline = mark == "~" ? .strikethrough(inner) : width == 2 ? .strong(inner) : .emphasis(inner)
                    return (inline, end + width)
                }
                index = after
                continue
            }
            index += 1
        }
        clearUntil[kind] = index
        return nil
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIIPunctuation: Bool { isASCII && (isPunctuation || isSymbol) }
}
