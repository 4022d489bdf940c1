@testable import PushCore
import Testing

/// The hand checks of tokens, topics and keys against the regular expressions they replaced, on
/// random mixes of what either treats specially.
@Suite struct ASCIIWordsTests {
    static let pieces = ["a", "Z", "0", "9", "42", "-", "_", ":", "sctp", "t", "x", " ", "/", ".", "中", "٣", "é", "\n", "AAE", "7"]

    static func randomTexts(_ count: Int, longest: Int = 40) -> [String] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in
            (0..<Int.random(in: 0...longest, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
        }
    }

    @Test func theChecksAgreeWithTheRegularExpressionsTheyReplaced() {
        for text in Self.randomTexts(3000) + ["", "-", "a", String(repeating: "a", count: 64), String(repeating: "a", count: 65), "123:abc", ":abc", "123:", "sctp1t", "sctpt", "sctp12x"] {
            #expect(text.isWord(lengths: 1...64) == (text.wholeMatch(of: /[-_A-Za-z0-9]{1,64}/) != nil), "\(text.debugDescription)")
            #expect(Telegram.isToken(text) == (text.wholeMatch(of: /[0-9]+:[A-Za-z0-9_-]+/) != nil), "\(text.debugDescription)")
            // `\d` took other scripts' digits too ("sctp٣t" made a host name of "٣"): ASCII digits only now.
            #expect(ServerChan.serverChan3User(text).map(String.init) == text.firstMatch(of: /^sctp([0-9]+)t/).map { String($0.1) }, "\(text.debugDescription)")
        }
    }
}
