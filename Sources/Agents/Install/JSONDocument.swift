import PushCore
import JSONText

/// A JSON settings file edited in place: every value is parsed with its place in the text, and
/// an edit rewrites only the bytes it touches, so the user's key order, spacing and comments
/// (Gemini CLI tolerates `//` and `/* */`) survive byte for byte. Re-serialising would reorder
/// and reformat a file people edit by hand.
public struct JSONDocument: Sendable, Equatable {
    public private(set) var text: String
    private(set) var root: Node

    /// A parsed value and where it sits (`range` covers the value itself, in UTF-8 offsets).
    indirect enum Value: Sendable, Equatable {
        case object([Member])
        case array([Node])
        case string(String)
        /// Numbers, booleans and null: kept as written.
        case literal(String)
    }

    struct Node: Sendable, Equatable {
        var value: Value
        var range: Range<Int>
    }

    struct Member: Sendable, Equatable {
        var key: String
        /// From the key's opening quote to the end of the value.
        var range: Range<Int>
        var node: Node
    }

    public init(parsing text: String) throws(JSONDocumentError) {
        self.text = text
        var parser = Parser(bytes: Array(text.utf8))
        root = try parser.document()
    }

    // MARK: Reading

    /// The value at a path of object keys (an empty path is the root).
    func node(at path: [String]) -> Node? {
        var current = root
        for key in path {
            guard case .object(let members) = current.value, let member = members.last(where: { $0.key == key }) else { return nil }
            current = member.node
        }
        return current
    }

    /// The string at `path`, when it is one.
    public func string(at path: [String]) -> String? {
        if case .string(let text)? = node(at: path)?.value { return text }
        return nil
    }

    /// Keys of the object at `path`, in file order.
    public func keys(at path: [String]) -> [String]? {
        guard case .object(let members)? = node(at: path)?.value else { return nil }
        return members.map(\.key)
    }

    /// The value at `path` as plain data, for reading what the user has.
    public func plain(at path: [String]) -> Plain? {
        node(at: path).map { Self.plain($0) }
    }

    /// A value without its place: what checks compare.
    public indirect enum Plain: Sendable, Equatable {
        case object([(String, Plain)])
        case array([Plain])
        case string(String)
        case literal(String)

        public static func == (a: Plain, b: Plain) -> Bool {
            switch (a, b) {
            case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            case (.array(let x), .array(let y)): return x == y
            case (.string(let x), .string(let y)): return x == y
            case (.literal(let x), .literal(let y)): return x == y
            default: return false
            }
        }

        public subscript(key: String) -> Plain? {
            if case .object(let members) = self { return members.last { $0.0 == key }?.1 }
            return nil
        }

        public var string: String? {
            if case .string(let text) = self { return text }
            return nil
        }

        public var array: [Plain]? {
            if case .array(let items) = self { return items }
            return nil
        }
    }

    private static func plain(_ node: Node) -> Plain {
        switch node.value {
        case .object(let members): return .object(members.map { ($0.key, plain($0.node)) })
        case .array(let items): return .array(items.map(plain))
        case .string(let text): return .string(text)
        case .literal(let text): return .literal(text)
        }
    }

    // MARK: Editing (each re-parses, so later edits see current offsets)

    /// Adds `key: value` at the end of the object at `path`, indented like its siblings.
    public mutating func insert(_ key: String, _ value: Plain, intoObjectAt path: [String]) throws(JSONDocumentError) {
        guard let container = node(at: path), case .object(let members) = container.value else {
            throw .notAnObject(path.joined(separator: "."))
        }
        let rendered = "\(Self.quoted(key)): "
        try append(rendered, value, to: container, after: members.last?.range)
    }

    /// Adds `value` at the end of the array at `path`.
    public mutating func append(_ value: Plain, toArrayAt path: [String]) throws(JSONDocumentError) {
        guard let container = node(at: path), case .array(let items) = container.value else {
            throw .notAnArray(path.joined(separator: "."))
        }
        try append("", value, to: container, after: items.last?.range)
    }

    /// Removes member `key` of the object at `path`, with its comma.
    public mutating func remove(_ key: String, fromObjectAt path: [String]) throws(JSONDocumentError) {
        guard let container = node(at: path), case .object(let members) = container.value,
            let index = members.lastIndex(where: { $0.key == key })
        else { return }
        try removeItem(at: index, ranges: members.map(\.range), in: container)
    }

    /// Removes element `index` of the array at `path`, with its comma.
    public mutating func remove(elementAt index: Int, fromArrayAt path: [String]) throws(JSONDocumentError) {
        guard let container = node(at: path), case .array(let items) = container.value, items.indices.contains(index) else { return }
        try removeItem(at: index, ranges: items.map(\.range), in: container)
    }

    /// Replaces the value at `path` (an array element by index as its last component, or a member).
    public mutating func replace(at path: [String], with value: Plain) throws(JSONDocumentError) {
        guard let target = node(at: path) else { throw .notAnObject(path.joined(separator: ".")) }
        try splice(target.range, with: render(value, indent: indentation(ofLineAt: target.range.lowerBound)))
    }

    /// Replaces element `index` of the array at `path`.
    public mutating func replace(elementAt index: Int, inArrayAt path: [String], with value: Plain) throws(JSONDocumentError) {
        guard let container = node(at: path), case .array(let items) = container.value, items.indices.contains(index) else {
            throw .notAnArray(path.joined(separator: "."))
        }
        try splice(items[index].range, with: render(value, indent: indentation(ofLineAt: items[index].range.lowerBound)))
    }

    private mutating func append(_ prefix: String, _ value: Plain, to container: Node, after last: Range<Int>?) throws(JSONDocumentError) {
        let bytes = Array(text.utf8)
        let closing = container.range.upperBound - 1
        let outer = indentation(ofLineAt: container.range.lowerBound)
        if let last {
            // Siblings on their own lines: the new one goes on its own line at their indentation.
            let between = bytes[last.upperBound..<closing]
            if between.contains(UInt8(ascii: "\n")) || isOnOwnLine(last.lowerBound, bytes) {
                let indent = indentation(ofLineAt: last.lowerBound)
                try splice(last.upperBound..<last.upperBound, with: ",\n" + indent + prefix + render(value, indent: indent))
            } else {
                try splice(last.upperBound..<last.upperBound, with: ", " + prefix + render(value, indent: outer))
            }
        } else {
            let inner = outer + indentStep
            try splice((container.range.lowerBound + 1)..<closing, with: "\n" + inner + prefix + render(value, indent: inner) + "\n" + outer)
        }
    }

    private mutating func removeItem(at index: Int, ranges: [Range<Int>], in container: Node) throws(JSONDocumentError) {
        let cut: Range<Int>
        if ranges.count == 1 {
            cut = (container.range.lowerBound + 1)..<(container.range.upperBound - 1)
        } else if index + 1 < ranges.count {
            cut = ranges[index].lowerBound..<ranges[index + 1].lowerBound
        } else {
            cut = ranges[index - 1].upperBound..<ranges[index].upperBound
        }
        try splice(cut, with: "")
    }

    private mutating func splice(_ range: Range<Int>, with replacement: String) throws(JSONDocumentError) {
        var bytes = Array(text.utf8)
        bytes.replaceSubrange(range, with: Array(replacement.utf8))
        let edited = String(decoding: bytes, as: UTF8.self)
        self = try JSONDocument(parsing: edited)
    }

    // MARK: Layout

    /// The file's indentation unit: the first indented line's leading whitespace, else two spaces.
    private var indentStep: String {
        for line in text.split(separator: "\n") {
            let leading = line.prefix { $0 == " " || $0 == "\t" }
            if !leading.isEmpty && leading.count < line.count { return String(leading) }
        }
        return "  "
    }

    private func indentation(ofLineAt offset: Int) -> String {
        let bytes = Array(text.utf8)
        var start = offset
        while start > 0 && bytes[start - 1] != UInt8(ascii: "\n") { start -= 1 }
        let leading = bytes[start..<offset].prefix { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        return String(decoding: leading, as: UTF8.self)
    }

    private func isOnOwnLine(_ offset: Int, _ bytes: [UInt8]) -> Bool {
        var index = offset
        while index > 0 {
            index -= 1
            if bytes[index] == UInt8(ascii: "\n") { return true }
            if bytes[index] != UInt8(ascii: " ") && bytes[index] != UInt8(ascii: "\t") { return false }
        }
        return true
    }

    /// `value` as JSON text, one member or element per line, nested `indent` + the file's step.
    func render(_ value: Plain, indent: String) -> String {
        switch value {
        case .string(let text): return Self.quoted(text)
        case .literal(let text): return text
        case .array(let items):
            guard !items.isEmpty else { return "[]" }
            let inner = indent + indentStep
            return "[\n" + items.map { inner + render($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let members):
            guard !members.isEmpty else { return "{}" }
            let inner = indent + indentStep
            return "{\n" + members.map { inner + Self.quoted($0.0) + ": " + render($0.1, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "}"
        }
    }

    static func quoted(_ text: String) -> String {
        var out = ""
        OrderedJSON.writeString(text, to: &out)
        return out
    }
}

/// Why a settings file cannot be edited: where it stops being JSON, or a key of the wrong kind.
public enum JSONDocumentError: Error, Sendable, Equatable, CustomStringConvertible {
    case syntax(line: Int, column: Int, String)
    case notAnObject(String)
    case notAnArray(String)

    public var description: String {
        switch self {
        case .syntax(let line, let column, let reason): return "line \(line), column \(column): \(reason)"
        case .notAnObject(let path): return "\(path.isEmpty ? "the top level" : "\"\(path)\"") is not a JSON object"
        case .notAnArray(let path): return "\"\(path)\" is not a JSON array"
        }
    }
}

/// A recursive-descent JSON reader recording each value's byte range. Comments count as space.
private struct Parser {
    let bytes: [UInt8]
    var index = 0
    var depth = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark is not content.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    mutating func document() throws(JSONDocumentError) -> JSONDocument.Node {
        skipSpace()
        if index == bytes.count { throw failure("the file is empty; expected a JSON object") }
        let node = try value()
        skipSpace()
        if index < bytes.count { throw failure("unexpected text after the JSON value") }
        return node
    }

    mutating func value() throws(JSONDocumentError) -> JSONDocument.Node {
        depth += 1
        defer { depth -= 1 }
        if depth > 256 { throw failure("nested too deeply") }
        guard index < bytes.count else { throw failure("unexpected end of file") }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var members: [JSONDocument.Member] = []
            skipSpace()
            if peek(UInt8(ascii: "}")) { index += 1; return .init(value: .object([]), range: start..<index) }
            while true {
                skipSpace()
                let keyStart = index
                guard peek(UInt8(ascii: "\"")) else { throw failure("expected a quoted key") }
                let key = try string()
                skipSpace()
                guard peek(UInt8(ascii: ":")) else { throw failure("expected ':' after the key") }
                index += 1
                skipSpace()
                let node = try value()
                members.append(.init(key: key, range: keyStart..<node.range.upperBound, node: node))
                skipSpace()
                if peek(UInt8(ascii: ",")) { index += 1; continue }
                if peek(UInt8(ascii: "}")) { index += 1; return .init(value: .object(members), range: start..<index) }
                throw failure("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            index += 1
            var items: [JSONDocument.Node] = []
            skipSpace()
            if peek(UInt8(ascii: "]")) { index += 1; return .init(value: .array([]), range: start..<index) }
            while true {
                skipSpace()
                items.append(try value())
                skipSpace()
                if peek(UInt8(ascii: ",")) { index += 1; continue }
                if peek(UInt8(ascii: "]")) { index += 1; return .init(value: .array(items), range: start..<index) }
                throw failure("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            let text = try string()
            return .init(value: .string(text), range: start..<index)
        default:
            while index < bytes.count, Self.literalBytes.contains(bytes[index]) { index += 1 }
            let literal = String(decoding: bytes[start..<index], as: UTF8.self)
            guard literal == "true" || literal == "false" || literal == "null" || Double(literal) != nil else {
                index = start
                throw failure("expected a value")
            }
            return .init(value: .literal(literal), range: start..<index)
        }
    }

    static let literalBytes = Set("0123456789+-.eEtrufalsn".utf8)

    mutating func string() throws(JSONDocumentError) -> String {
        index += 1
        var scalars = String.UnicodeScalarView()
        var run: [UInt8] = []
        func flush() {
            scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
            run.removeAll()
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                flush()
                return String(scalars)
            }
            if byte < 0x20 { throw failure("a control character inside a string") }
            if byte == UInt8(ascii: "\\") {
                flush()
                guard index + 1 < bytes.count else { break }
                index += 1
                switch bytes[index] {
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{C}")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\\"),
                        bytes[index + 2] == UInt8(ascii: "u")
                    {
                        index += 2
                        let low = try hex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                case let other where other == UInt8(ascii: "\"") || other == UInt8(ascii: "\\") || other == UInt8(ascii: "/"):
                    scalars.append(Unicode.Scalar(other))
                default: throw failure("an unknown escape in a string")
                }
                index += 1
                continue
            }
            run.append(byte)
            index += 1
        }
        throw failure("a string is not closed")
    }

    mutating func hex4() throws(JSONDocumentError) -> UInt32 {
        guard index + 4 < bytes.count, let code = UInt32(String(decoding: bytes[(index + 1)...(index + 4)], as: UTF8.self), radix: 16)
        else { throw failure("a bad \\u escape") }
        index += 4
        return code
    }

    func peek(_ byte: UInt8) -> Bool { index < bytes.count && bytes[index] == byte }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "/"):
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
                index += 2
                while index + 1 < bytes.count && !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) { index += 1 }
                index = min(bytes.count, index + 2)
            default: return
            }
        }
    }

    func failure(_ reason: String) -> JSONDocumentError {
        let before = bytes[..<min(index, bytes.count)]
        let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
        let column = before.count - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        return .syntax(line: line, column: column, reason)
    }
}
