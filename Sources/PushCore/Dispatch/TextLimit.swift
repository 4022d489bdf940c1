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
        let limit = cutting ? descriptor.maximumLength : nil
        var message = self
        // A service with no urgency of its own shows it at the start of the title, unless the title already
        // starts with a symbol (the hooks' and events' ✅ ❌ ⏳).
        if !descriptor.carriesLevels, let marker = level.marker, !title.startsWithSymbol {
            message.title = "\(marker) \(title)"
        }
        guard let url, !descriptor.carriesLinks else { return message.fitted(to: limit) }
        let suffix = "\n\n" + url
        message.url = nil
        var plain = message.fitted(to: limit.map { $0.reserving($0.measure(suffix)) })
        plain.body = plain.body.isEmpty ? url : plain.body + suffix
        return plain
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

    private static func prefix(of text: String, fitting room: Int, in limit: TextLimit) -> String {
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
