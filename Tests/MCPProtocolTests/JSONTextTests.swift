import Foundation
import JSONText
import Testing

/// JSON read and written by hand: what is written reads back the same, strings exactly as sent.
@Suite struct JSONTextTests {
    /// A fixed-seed generator (SplitMix64), so a failure is reproduced by its seed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Strings from the corners that break JSON code: quotes, backslashes, controls (NUL included),
    /// data URLs, emoji, CJK, combining marks, the edges of the planes, long runs.
    static let pieces: [String] = [
        "\"", "\\", "\\u0000", "/", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "\n", "\r\n", "\t", " ", "data:", "data:text/plain;base64,SGVsbG8=",
        "data:text/html,<b>report</b>", "😀", "👩‍💻", "中文", "é", "e\u{301}", "\u{FFFF}", "\u{10FFFF}", "\u{2028}", "a", "Z", "=?base64?x?=",
        "\u{FEFF}",
    ]

    static func randomString(_ generator: inout SeededGenerator) -> String {
        let count = Int.random(in: 0...12, using: &generator)
        return (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }

    static func randomValue(_ generator: inout SeededGenerator, depth: Int = 0) -> OrderedJSON {
        switch Int.random(in: 0...(depth > 4 ? 4 : 7), using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .int(Int.random(in: Int.min...Int.max, using: &generator))
        case 3: return .double(Double.random(in: -1e300...1e300, using: &generator))
        case 4: return .string(randomString(&generator))
        case 5, 6:
            let count = Int.random(in: 0...5, using: &generator)
            return .object((0..<count).map { _ in (randomString(&generator), randomValue(&generator, depth: depth + 1)) })
        default:
            return .array((0..<Int.random(in: 0...5, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) })
        }
    }

    @Test(arguments: 0..<200)
    func whatIsWrittenReadsBackTheSame(seed: UInt64) throws {
        var generator = SeededGenerator(state: seed)
        let value = Self.randomValue(&generator)
        let text = value.text
        #expect(try OrderedJSON.parse(text) == value, "seed \(seed): \(text)")
        // Foundation's reader agrees with what we write.
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) is Any)
    }

    @Test(arguments: 0..<200)
    func stringsSurviveForeignEscaping(seed: UInt64) throws {
        // Python's json.dumps escapes everything non-ASCII as \uXXXX (surrogate pairs above the BMP).
        var generator = SeededGenerator(state: seed &+ 1000)
        let string = Self.randomString(&generator)
        var escaped = "\""
        for unit in string.utf16 {
            switch unit {
            case 0x22: escaped += "\\\""
            case 0x5C: escaped += "\\\\"
            case 0x20...0x7E: escaped += String(UnicodeScalar(UInt8(unit)))
            default: escaped += String(format: "\\u%04x", unit)
            }
        }
        escaped += "\""
        #expect(try OrderedJSON.parse(escaped) == .string(string), "seed \(seed)")
    }

    @Test func deepNestingIsReadUpToTheLimitAndRefusedBeyond() throws {
        let deep = String(repeating: "[", count: OrderedJSON.maximumDepth) + String(repeating: "]", count: OrderedJSON.maximumDepth)
        #expect(try OrderedJSON.parse(deep).text == deep)
        let deeper = "[" + deep + "]"
        #expect(throws: JSONParseError.self) { try OrderedJSON.parse(deeper) }
        let bomb = String(repeating: "[", count: 1_000_000)
        #expect(throws: JSONParseError.self) { try OrderedJSON.parse(bomb) }
    }

    @Test func numbers() throws {
        #expect(try OrderedJSON.parse("9223372036854775807") == .int(Int.max))
        #expect(try OrderedJSON.parse("-9223372036854775808") == .int(Int.min))
        #expect(try OrderedJSON.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try OrderedJSON.parse("1.5e3") == .double(1500))
        #expect(try OrderedJSON.parse("-0") == .int(0))
        for bad in ["01", "1.", ".5", "+1", "1e", "0x10", "1e999", "NaN", "Infinity", "-"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try OrderedJSON.parse(bad) }
        }
    }

    @Test func malformedTextIsRefusedWithAPlace() {
        for bad in ["", " ", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "{\"a\" 1}", "\"\u{1}\"", "\"\\x\"", "\"\\u12\"", "tru", "nul", "[1] 2", "// c\n1"] {
            #expect(throws: JSONParseError.self, "\(bad.debugDescription)") { try OrderedJSON.parse(bad) }
        }
        // Invalid UTF-8 (a lone continuation byte, an overlong slash, a truncated sequence).
        for bytes: [UInt8] in [[0x22, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE4, 0xB8, 0x22]] {
            #expect(throws: JSONParseError.self) { try OrderedJSON.parse(bytes) }
        }
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        #expect(try OrderedJSON.parse(#""\ud800x""#) == .string("\u{FFFD}x"))
        #expect(try OrderedJSON.parse(#""\udc00""#) == .string("\u{FFFD}"))
        #expect(try OrderedJSON.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func duplicateKeysKeepOrderAndTheLastWins() throws {
        let value = try OrderedJSON.parse(#"{"b":1,"a":2,"b":3}"#)
        #expect(value["b"] == .int(3))
        #expect(value.text == #"{"b":1,"a":2,"b":3}"#)
    }
}
