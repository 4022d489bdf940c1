@testable import PushCore
import Testing

/// A request that HTTP cannot carry is refused before sending, with the header named.
@Suite struct HTTPRequestSpecTests {
    static func reason(name: String, value: String = "v", url: String = "https://push.example/x") -> String? {
        HTTPRequestSpec(url: url, headers: [(name, value)]).unsendableReason
    }

    @Test func headersHTTPCannotCarryAreRefusedByName() {
        #expect(Self.reason(name: "Authorization", value: "Bearer abc.def") == nil)
        #expect(Self.reason(name: "X-Priority!#$%&'*+-.^_`|~09az", value: "中文 \t ok") == nil)
        for bad in ["", "X Title", "X:Title", "Tïtle", "X\tTitle", "X\u{7F}", "(x)", "a/b", "a=b", "a\"b", "a\\b", "{}", "[x]", "a?b", "a@b", "a,b", "a;b", "<x>"] {
            #expect(Self.reason(name: bad) == "header name \"\(bad)\" cannot be sent", "\(bad.debugDescription)")
        }
        for bad in ["line\nbreak", "carriage\rreturn", "nul\u{0}byte"] {
            #expect(Self.reason(name: "X-Token", value: bad)?.hasPrefix("the X-Token header's value holds a line break") == true, "\(bad.debugDescription)")
        }
        #expect(Self.reason(name: "X", url: "ftp://push.example/x") == "unsupported URL scheme \"ftp\" (use http:// or https://)")
    }

    /// The byte check against the character set it replaced, on random names.
    @Test func theByteCheckAgreesWithTheCharacterSetItReplaced() {
        let separators = Set("()<>@,;:\\\"/[]?={} \t")
        func reference(_ name: String) -> Bool {
            !name.isEmpty && !name.unicodeScalars.contains(where: { $0.value <= 32 || $0.value >= 127 || separators.contains(Character($0)) })
        }
        let pieces = ["a", "Z", "0", "-", "_", ".", "!", "~", " ", "\t", ":", "/", "é", "中", "\u{7F}", "\u{1}", "\"", "\\", "{", "]", "=", "?"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let name = (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect((Self.reason(name: name) == nil) == reference(name), "\(name.debugDescription)")
        }
    }
}
