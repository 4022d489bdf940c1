@testable import PushCore
import Testing
import TestSupport

/// Markdown as agents write it, read once and shown three ways: nothing the user wrote ever
/// becomes markup, marks without a partner stay text, and Telegram's HTML is always what it accepts.
@Suite struct MarkdownTests {
    static let report = """
        ## Build report

        All **412** tests passed in *12 min*; see [the log](https://ci.example/42?a=1&b=2).
        Fixed `parse_args()` and ~~the flaky one~~.

        - first_step done
        - second: 2 * 3 < 7 & true
          - nested
        1. one
        2. two

        > quoted <b>not bold</b>

        ```swift
        let x = a < b && c > d
        ```
        ---
        中文 **粗体** 和 _斜体_
        """

    @Test func plainTextDropsTheMarksAndKeepsTheWords() {
        #expect(Markdown.plainText(Self.report) == """
            Build report

            All 412 tests passed in 12 min; see the log (https://ci.example/42?a=1&b=2).
            Fixed parse_args() and the flaky one.

            • first_step done
            • second: 2 * 3 < 7 & true
              • nested
            1. one
            2. two

            > quoted <b>not bold</b>

            let x = a < b && c > d

            ———

            中文 粗体 和 斜体
            """)
    }

    @Test func telegramHTMLEscapesWhatTheUserWroteAndUsesOnlyItsTags() throws {
        let blocks = Markdown.parse(Self.report)
        let html = Markdown.joined(blocks, Markdown.telegramHTML(blocks))
        #expect(html.contains("<b>Build report</b>"))
        #expect(html.contains("All <b>412</b> tests passed in <i>12 min</i>; see <a href=\"https://ci.example/42?a=1&amp;b=2\">the log</a>."))
        #expect(html.contains("Fixed <code>parse_args()</code> and <s>the flaky one</s>."))
        #expect(html.contains("• second: 2 * 3 &lt; 7 &amp; true\n  • nested\n1. one"))
        #expect(html.contains("<blockquote>quoted &lt;b&gt;not bold&lt;/b&gt;</blockquote>"))
        #expect(html.contains("<pre><code class=\"language-swift\">let x = a &lt; b &amp;&amp; c &gt; d</code></pre>"))
        #expect(html.contains("中文 <b>粗体</b> 和 <i>斜体</i>"))
        let shown = try TelegramTests.parseHTML(html).get()
        #expect(shown.contains("quoted <b>not bold</b>"), "the user's tags are shown, never obeyed")
    }

    @Test func marksWithoutAPartnerAndWordInnerUnderscoresStayText() {
        for text in ["snake_case_name and foo_bar_ too", "2 * 3 * 4", "a ** b", "unclosed **bold", "a_b_c", "[not a link]", "[x](", "`open code", "~single~"] {
            #expect(Markdown.plainText(text) == text, "\(text)")
            let blocks = Markdown.parse(text)
            let html = Markdown.joined(blocks, Markdown.telegramHTML(blocks))
            #expect(!html.contains("<"), "\(text) → \(html)")
        }
        #expect(Markdown.plainText("`__init__` is **bold**, __init__ strong as CommonMark has it") == "__init__ is bold, init strong as CommonMark has it")
        #expect(Markdown.parse("***") == [.rule])
        #expect(Markdown.plainText(#"\*not emphasis\* and \`not code\`"#) == "*not emphasis* and `not code`")
        #expect(Markdown.plainText("***both***") == "both")
        #expect(Markdown.parse("***both***") == [.paragraph([.strong([.emphasis([.text("both")])])])])
        #expect(Markdown.parse("*a **b** c*") == [.paragraph([.emphasis([.text("a "), .strong([.text("b")]), .text(" c")])])])
    }

    @Test func codeBindsTighterThanEmphasis() {
        #expect(Markdown.parse("*a `b*` c*") == [.paragraph([.emphasis([.text("a "), .code("b*"), .text(" c")])])])
    }

    /// Inputs that make a naive reader look for partners from every mark (quadratic, minutes for a long
    /// message) are read with bounded work, and read the same as their short forms.
    @Test func pathologicalInputsStayText() async {
        let count = 40_000
        let cases: [(String, (String) -> Bool)] = [
            (String(repeating: "*a ", count: count), { $0.hasPrefix("*a *a") }),
            (String(repeating: "[", count: count) + String(repeating: "]", count: count), { $0.count == 2 * count }),
            (String(repeating: "`a", count: count), { $0.count >= count }),
            (String(repeating: "_a_b", count: count), { $0.contains("a") }),
            (String(repeating: "**[x](", count: count), { $0.contains("x") }),
            (String(repeating: "<http://x ", count: count), { $0.contains("http://x") }),
        ]
        for (text, check) in cases {
            let (plain, accepted) = await offThePool {
                let blocks = Markdown.parse(text)
                return (Markdown.plainText(text), (try? TelegramTests.parseHTML(Markdown.joined(blocks, Markdown.telegramHTML(blocks))).get()) != nil)
            }
            #expect(check(plain), "\(text.prefix(20))…")
            #expect(accepted)
        }
    }

    @Test func onlyWebAndMailLinksOpen() {
        let blocks = Markdown.parse("[click](javascript:alert(1)) [mail](mailto:a@b.c) <https://x.example/a_b> [q](https://x.example/\"onmouseover)")
        let html = Markdown.joined(blocks, Markdown.telegramHTML(blocks))
        #expect(html.contains("click (javascript:alert(1))"))
        #expect(!html.contains("href=\"javascript"))
        #expect(html.contains("<a href=\"mailto:a@b.c\">mail</a>"))
        #expect(html.contains("<a href=\"https://x.example/a_b\">https://x.example/a_b</a>"))
        #expect(!html.contains("onmouseover\""), "a quote in a URL never leaves the attribute")
    }

    @Test func emailHTMLNestsListsAndEscapes() {
        let html = Markdown.emailHTML(Self.report)
        #expect(html.hasPrefix("<h2>Build report</h2><p>All <b>412</b>"))
        #expect(html.contains("<ul><li>first_step done</li><li>second: 2 * 3 &lt; 7 &amp; true</li><ul><li>nested</li></ul></ul><ol><li>one</li><li>two</li></ol>"))
        #expect(html.contains("<pre><code>let x = a &lt; b &amp;&amp; c &gt; d</code></pre><hr><p>中文"))
    }

    @Test func escapedTextReadsBackAsWritten() {
        let texts = [
            "**not bold** _not italic_ `not code` [not](a link) <b>not a tag</b> # not a heading",
            "- not a list", "1. not numbered", "> not a quote", "a & b &amp; c", "中文 *星号* 和 _下划线_ ~~删除~~", "| a | b |", "+ plus", "snake_case",
        ]
        for text in texts {
            #expect(Markdown.plainText(Markdown.escaped(text)) == text, "\(text) → \(Markdown.escaped(text))")
            let blocks = Markdown.parse(Markdown.escaped(text))
            #expect(blocks.count == 1)
            if case .paragraph(let inlines) = blocks.first { #expect(inlines == [.text(text)], "\(text)") } else { Issue.record("\(blocks)") }
        }
    }

    /// The one-pass escaper against the two regular expressions it replaced, on random mixes of what
    /// either treats specially.
    @Test func escapingMatchesTheRegularExpressionsItReplaced() {
        func reference(_ text: String) -> String {
            var result = ""
            var lineStart = true
            for character in text {
                if "\\`*_[]<|~".contains(character) || (lineStart && "#>-+=".contains(character)) { result.append("\\") }
                result.append(character)
                lineStart = character == "\n" || (lineStart && character == " ")
            }
            return result.replacing(/(?m)^(\s*[0-9]+)([.)])/) { "\($0.1)\\\($0.2)" }.replacing(/&(#?[A-Za-z0-9]+;)/) { "\\&\($0.1)" }
        }
        let pieces = ["1", "23", ".", ")", " ", "\t", "\n", "&", "#", ";", "amp", "x", "*", "-", "> ", "中", "`", "\\", "1. ", "&#38;", "&lt;"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect(Markdown.escaped(text) == reference(text), "\(text.debugDescription)")
        }
    }

    /// Whatever the input (marks, brackets, tags, entities, control characters in any mix), Telegram
    /// accepts the HTML, and what it shows holds every word of the plain text.
    @Test func telegramAcceptsTheHTMLOfAnyInput() throws {
        let pieces = ["*", "**", "_", "__", "~~", "`", "```", "[", "]", "(", ")", "<", ">", "&", "&amp;", "#", "- ", "1. ", "> ", "\n", "\n\n", " ", "a", "中", "👍", "https://x.example/?a=1&b=<2>", "\\", "\"", "'", "\t", "\u{0}", "<b>", "</i>"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 1...24, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let blocks = Markdown.parse(text)
            let html = Markdown.joined(blocks, Markdown.telegramHTML(blocks))
            let shown = TelegramTests.parseHTML(html)
            guard case .success = shown else {
                Issue.record("Telegram would refuse \(html.debugDescription) for \(text.debugDescription): \(shown)")
                return
            }
            _ = Markdown.emailHTML(text)  // never traps
            let words = Markdown.plainText(text).split(whereSeparator: { !$0.isLetter })
            let visible = try shown.get()
            for word in words { #expect(visible.contains(word), "\(word) of \(text.debugDescription)") }
        }
    }
}
