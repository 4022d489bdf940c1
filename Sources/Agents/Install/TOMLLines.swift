import Foundation
import PushCore
import JSONText

/// Codex's config.toml, edited by whole statements: one top-level key (`notify`) and one table
/// (`[mcp_servers.mcp-push]`). Every other line, comments included, stays as the user wrote it.
/// This is not a TOML parser; it reads only what those two edits need.
public struct TOMLLines: Sendable, Equatable {
    public private(set) var lines: [String]
    /// Whether the text ended with a newline (kept as it was).
    private var endsWithNewline: Bool

    public init(_ text: String) {
        endsWithNewline = text.isEmpty || text.hasSuffix("\n")
        var split = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if text.hasSuffix("\n") { split.removeLast() }
        lines = text.isEmpty ? [] : split
    }

    public var text: String {
        lines.joined(separator: "\n") + (endsWithNewline && !lines.isEmpty ? "\n" : "")
    }

    /// The first table header's line, where top-level keys end.
    private var firstTable: Int {
        lines.firstIndex { Self.tableName($0) != nil } ?? lines.count
    }

    /// A `[table]` header's dotted name without quotes or spaces (`mcp_servers.mcp-push`); nil for other lines.
    static func tableName(_ line: String) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("["), !trimmed.hasPrefix("[["), let end = trimmed.firstIndex(of: "]") else { return nil }
        return String(trimmed[trimmed.index(after: trimmed.startIndex)..<end]).filter { $0 != " " && $0 != "\"" && $0 != "'" }
    }

    /// The lines of the statement `key = ...` in `region` (an array may span lines), and its value's text.
    private func statement(_ key: String, in region: Range<Int>) -> (lines: ClosedRange<Int>, value: String)? {
        for index in region {
            let trimmed = lines[index].trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(key) else { continue }
            let rest = trimmed.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }
            guard rest.first == "=" else { continue }
            var value = String(rest.dropFirst())
            var last = index
            while Self.openBrackets(value) > 0 && last + 1 < region.upperBound {
                last += 1
                value += "\n" + lines[last]
            }
            return (index...last, value.trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// `[` minus `]` outside strings and comments.
    private static func openBrackets(_ text: String) -> Int {
        var depth = 0
        var quote: Character?
        var escaped = false
        for character in text {
            if let open = quote {
                if escaped { escaped = false } else if character == "\\" && open == "\"" { escaped = true } else if character == open { quote = nil }
                continue
            }
            switch character {
            case "\"", "'": quote = character
            case "#": return depth
            case "[": depth += 1
            case "]": depth -= 1
            default: break
            }
        }
        return depth
    }

    /// The strings of a top-level key whose value is an array of strings (`notify = ["a", "b"]`);
    /// `.some(nil)` when the key is set to something else.
    public func topLevelStrings(_ key: String) -> [String]?? {
        guard let found = statement(key, in: 0..<firstTable) else { return nil }
        return .some(Self.strings(inArray: found.value))
    }

    /// Sets a top-level key, replacing its statement or adding one before the first table.
    public mutating func setTopLevel(_ key: String, rawValue: String) {
        let line = "\(key) = \(rawValue)"
        if let found = statement(key, in: 0..<firstTable) {
            lines.replaceSubrange(found.lines, with: [line])
            return
        }
        let at = firstTable
        // Before a table header, a blank line keeps the key from reading as part of what follows.
        let insertion = at < lines.count ? [line, ""] : (lines.last.map { $0.trimmingCharacters(in: .whitespaces).isEmpty } ?? true ? [line] : ["", line])
        lines.insert(contentsOf: insertion, at: at)
        endsWithNewline = true
    }

    /// Removes a top-level key's statement (and the blank line `setTopLevel` put after it).
    public mutating func removeTopLevel(_ key: String) {
        guard let found = statement(key, in: 0..<firstTable) else { return }
        var range = found.lines.lowerBound...found.lines.upperBound
        let next = range.upperBound + 1
        if next < lines.count, lines[next].trimmingCharacters(in: .whitespaces).isEmpty,
            next + 1 < lines.count, Self.tableName(lines[next + 1]) != nil
        {
            range = range.lowerBound...next
        }
        lines.removeSubrange(range)
    }

    /// The lines of table `name`, header included, up to the next header (trailing blank lines excluded).
    public func table(_ name: String) -> Range<Int>? {
        guard let header = lines.firstIndex(where: { Self.tableName($0) == name }) else { return nil }
        var end = lines[(header + 1)...].firstIndex { Self.tableName($0) != nil || $0.trimmingCharacters(in: .whitespaces).hasPrefix("[[") } ?? lines.count
        while end > header + 1 && lines[end - 1].trimmingCharacters(in: .whitespaces).isEmpty { end -= 1 }
        return header..<end
    }

    /// A string key's value inside table `name`.
    public func string(_ key: String, inTable name: String) -> String? {
        guard let range = table(name), let found = statement(key, in: (range.lowerBound + 1)..<range.upperBound) else { return nil }
        return Self.strings(inArray: "[" + found.value + "]")?.first
    }

    /// Appends a table at the end, after a blank line.
    public mutating func appendTable(_ name: String, _ body: [String]) {
        if let last = lines.last, !last.trimmingCharacters(in: .whitespaces).isEmpty { lines.append("") }
        lines.append("[\(name)]")
        lines.append(contentsOf: body)
        endsWithNewline = true
    }

    /// Removes table `name` and the blank line before it.
    public mutating func removeTable(_ name: String) {
        guard var range = table(name) else { return }
        if range.lowerBound > 0, lines[range.lowerBound - 1].trimmingCharacters(in: .whitespaces).isEmpty {
            range = (range.lowerBound - 1)..<range.upperBound
        }
        lines.removeSubrange(range)
    }

    /// A TOML basic string for `text`: JSON's escapes are TOML's, and TOML also forbids a raw DEL.
    public static func quoted(_ text: String) -> String {
        var out = ""
        OrderedJSON.writeString(text, to: &out)
        return out.replacingAll("\u{7F}", with: "\\u007F")
    }

    /// The strings of an array of basic or literal strings; nil when it is anything else.
    static func strings(inArray text: String) -> [String]? {
        var characters = Array(text.trimmingCharacters(in: .whitespacesAndNewlines))
        // A trailing comment after the closing bracket.
        if let close = characters.lastIndex(of: "]") { characters = Array(characters[...close]) }
        guard characters.first == "[", characters.last == "]" else { return nil }
        var result: [String] = []
        var index = 1
        while index < characters.count - 1 {
            let character = characters[index]
            if character == " " || character == "\t" || character == "\n" || character == "\r" || character == "," {
                index += 1
                continue
            }
            if character == "#" {
                while index < characters.count - 1 && characters[index] != "\n" { index += 1 }
                continue
            }
            guard character == "\"" || character == "'" else { return nil }
            var value = ""
            index += 1
            var closed = false
            while index < characters.count - 1 {
                let next = characters[index]
                if next == character {
                    closed = true
                    index += 1
                    break
                }
                if next == "\\" && character == "\"" && index + 1 < characters.count {
                    index += 1
                    switch characters[index] {
                    case "n": value.append("\n")
                    case "t": value.append("\t")
                    case "\"": value.append("\"")
                    case "\\": value.append("\\")
                    default: value.append(characters[index])
                    }
                } else {
                    value.append(next)
                }
                index += 1
            }
            guard closed else { return nil }
            result.append(value)
        }
        return result
    }
}
