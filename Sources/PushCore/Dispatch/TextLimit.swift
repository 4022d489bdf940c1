/// A service's maximum text length, in the unit it counts.
public enum TextLimit: Sendable, Equatable {
    case bytes(Int)
    case characters(Int)
    /// UTF-16 code units, as Telegram counts.
    case utf16(Int)

    func measure(_ text: String) -> Int {
        switch self {
        case .bytes: return text.utf8.count
        case .characters: return text.count
        case .utf16: return text.utf16.count
        }
    }

    var limit: Int {
        switch self {
        case .bytes(let n), .characters(let n), .utf16(let n): return n
        }
    }

    /// The same unit with another size.
    func resized(to size: Int) -> TextLimit {
        switch self {
        case .bytes: return .bytes(size)
        case .characters: return .characters(size)
        case .utf16: return .utf16(size)
        }
    }

    /// `parts` times the limit: what a text split into that many messages may hold.
    func times(_ parts: Int) -> TextLimit {
        switch self {
        case .bytes(let n): return .bytes(n * parts)
        case .characters(let n): return .characters(n * parts)
        case .utf16(let n): return .utf16(n * parts)
        }
    }

    /// `text` in pieces that each fit, split after line breaks (inside a line only when the line alone is
    /// too long, then at a character): joined again, they are the text.
    public func split(_ text: String) -> [String] {
        split(text, measuredBy: measure)
    }

    /// The same, each piece's size being what `measure` says (its size once escaped, say).
    func split(_ text: String, measuredBy measure: (String) -> Int) -> [String] {
        guard measure(text) > limit else { return [text] }
        var parts: [String] = []
        var current = ""
        var size = 0
        func flush() {
            if !current.isEmpty { parts.append(current) }
            current = ""
            size = 0
        }
        var lines = text.components(separatedBy: "\n").map { $0 + "\n" }
        lines[lines.count - 1].removeLast()
        for line in lines {
            let lineSize = measure(line)
            if size + lineSize <= limit {
                current += line
                size += lineSize
                continue
            }
            flush()
            if lineSize <= limit {
                current = line
                size = lineSize
                continue
            }
            for character in line {
                let characterSize = measure(String(character))
                if size + characterSize > limit { flush() }
                current.append(character)
                size += characterSize
            }
        }
        flush()
        return parts
    }

    /// The same limit with `room` of it taken (by a link kept whole at the end).
    func reserving(_ room: Int) -> TextLimit {
        switch self {
        case .bytes(let n): return .bytes(max(1, n - room))
        case .characters(let n): return .characters(max(1, n - room))
        case .utf16(let n): return .utf16(max(1, n - room))
        }
    }
}

extension Message {
    static let truncationMarker = "…(truncated)"

    /// What a channel is sent: a link it has no field for ends the text, and the text is cut to the
    /// service's limit before it, so the link is never what gets cut. `cutting: false` gives the same
    /// without the cut (to tell whether the service got the whole message).
    public func prepared(for descriptor: ChannelDescriptor, cutting: Bool = true) -> Message {
        var message = self
        if format == .markdown, !descriptor.rendersMarkdown {
            message.body = Markdown.plainText(body)
            message.format = .text
        }
        // A service with no urgency of its own shows it at the start of the title, unless the title already
        // starts with a symbol (the hooks' and events' ✅ ❌ ⏳).
        if !descriptor.carriesLevels, let marker = level.marker, !title.startsWithSymbol {
            message.title = "\(marker) \(title)"
        }
        let limit = cutting ? message.limit(for: descriptor) : nil
        guard let url, !descriptor.carriesLinks else { return message.fitted(to: limit) }
        let suffix = "\n\n" + url
        message.url = nil
        var plain = message.fitted(to: limit.map { $0.reserving($0.measure(suffix)) })
        plain.body = plain.body.isEmpty ? url : plain.body + suffix
        return plain
    }

    /// How much of the text a service takes: its limit, or for one that takes several messages, what
    /// its first `maximumParts` messages hold once split on line breaks.
    func limit(for descriptor: ChannelDescriptor) -> TextLimit? {
        guard let one = descriptor.maximumLength, descriptor.maximumParts > 1 else { return descriptor.maximumLength }
        let pieces = one.split(text + (url.map { "\n\n" + $0 } ?? ""))  // as the service will get it
        guard pieces.count > descriptor.maximumParts else { return one.times(descriptor.maximumParts) }
        return one.resized(to: one.measure(pieces.prefix(descriptor.maximumParts).joined()))
    }

    /// The message cut to fit `limit` (measured on ``text``, as most services receive it),
    /// at a character boundary, so never inside a UTF-8 sequence or an emoji, with a
    /// visible marker. The title is kept whole unless it alone is too long.
    public func fitted(to limit: TextLimit?) -> Message {
        guard let limit, limit.measure(text) > limit.limit else { return self }
        let marker = Self.truncationMarker
        let overhead = limit.measure(title) + limit.measure("\n\n") + limit.measure(marker)
        if overhead < limit.limit {
            var cut = self
            cut.body = Self.prefix(of: body, fitting: limit.limit - overhead, in: limit) + marker
            return cut
        }
        let titleRoom = max(0, limit.limit - limit.measure(marker))
        var cut = self
        cut.title = Self.prefix(of: title, fitting: titleRoom, in: limit) + marker
        cut.body = ""
        return cut
    }

    /// The longest start of `text` that measures at most `room`, cut between characters.
    static func prefix(of text: String, fitting room: Int, in limit: TextLimit) -> String {
        var used = 0
        var end = text.startIndex
        for index in text.indices {
            let size = limit.measure(String(text[index]))
            if used + size > room { break }
            used += size
            end = text.index(after: index)
        }
        return String(text[..<end])
    }
}

extension String {
    /// Whether the first character is an emoji or pictographic symbol.
    var startsWithSymbol: Bool {
        guard let scalar = unicodeScalars.first else { return false }
        return scalar.properties.isEmojiPresentation || (scalar.properties.isEmoji && scalar.value > 0x238C)
    }
}
