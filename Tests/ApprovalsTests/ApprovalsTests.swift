import Foundation
import Logging
import PushCore
import Testing

@testable import Approvals

private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "approvals-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func question(in store: SQLiteStore, signer: TokenSigner, expiresIn seconds: Double = 60) throws -> (ApprovalRecord, [OneTimeToken], OneTimeToken) {
    let answers = [OneTimeToken(), OneTimeToken()]
    let page = OneTimeToken()
    let now = Date()
    let record = ApprovalRecord(
        id: OneTimeToken().text, kind: "permission", title: "Run?", detail: "ls", options: ["Allow", "Deny"], createdAt: now,
        expiresAt: now.addingTimeInterval(seconds))
    var tokens = answers.enumerated().map { (digest: signer.digest($1), purpose: TokenPurpose.answer($0)) }
    tokens.append((signer.digest(page), .page))
    tokens += [0, 1].map { (signer.digest(signer.derive(from: page, choice: $0)), .answer($0)) }
    try store.createApproval(record, tokens: tokens)
    return (record, answers, page)
}

/// One-time tokens: 128 random bits, a fixed shape, kept only as keyed digests.
@Suite struct TokenTests {
    @Test func tokensAre128RandomBitsInBase64URL() {
        let tokens = (0..<2000).map { _ in OneTimeToken().text }
        #expect(Set(tokens).count == tokens.count)
        #expect(tokens.allSatisfy { $0.count == 22 && OneTimeToken(presented: $0) != nil })
        // Every character position varies: nothing fixed an attacker could lean on.
        for position in 0..<21 {
            #expect(Set(tokens.map { Array($0)[position] }).count > 20)
        }
        #expect(OneTimeToken().answer.utf8.count <= 64)  // Telegram's callback_data limit
    }

    @Test func onlyTokenShapedTextIsAccepted() {
        for text in ["", "short", String(repeating: "A", count: 21), String(repeating: "A", count: 23), "AAAAAAAAAAAAAAAAAAAA/=", "AAAAAAAAAAAAAAAAAAAA\u{0}A", "ÄAAAAAAAAAAAAAAAAAAAAA"] {
            #expect(OneTimeToken(presented: text) == nil, "\(text)")
        }
        #expect(OneTimeToken(answer: "mp2:" + OneTimeToken().text) == nil)
    }

    @Test func theKeyIsPrivateSharedAndStable() throws {
        let directory = try temporaryDirectory()
        let first = TokenSigner.load(directory: directory)
        let second = TokenSigner.load(directory: directory)
        let token = OneTimeToken()
        #expect(first.digest(token) == second.digest(token))
        #expect(first.digest(token) != TokenSigner.load(directory: try temporaryDirectory()).digest(token))
        let mode = try FileManager.default.attributesOfItem(atPath: "\(directory)/approvals.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(first.digest(token).count == 64 && !first.digest(token).contains(token.text))
    }

    @Test func pageAnswerTokensAreBoundToTheirPageAndOption() {
        let signer = TokenSigner.load(directory: nil)
        let page = OneTimeToken()
        #expect(signer.derive(from: page, choice: 0) == signer.derive(from: page, choice: 0))
        #expect(signer.derive(from: page, choice: 0) != signer.derive(from: page, choice: 1))
        #expect(signer.derive(from: page, choice: 0) != signer.derive(from: OneTimeToken(), choice: 0))
        #expect(signer.derive(from: page, choice: 0) != TokenSigner.load(directory: nil).derive(from: page, choice: 0))
    }
}

/// The store decides: the first answer wins, across processes; nothing after it, or after expiry, counts.
@Suite struct AnswerTests {
    let store = SQLiteStore.inMemory()
    let signer = TokenSigner.load(directory: nil)

    @Test func theFirstAnswerWinsAndReplaysChangeNothing() throws {
        let (record, answers, _) = try question(in: store, signer: signer)
        guard case .decided(let decided) = try store.answer(tokenDigest: signer.digest(answers[1]), by: "@ada", via: "telegram") else {
            Issue.record("not decided")
            return
        }
        #expect(decided.answerLabel == "Deny" && decided.answeredBy == "@ada" && decided.state == .answered)
        for token in [answers[0], answers[1]] {
            guard case .alreadyClosed(let closed) = try store.answer(tokenDigest: signer.digest(token), by: "@ada", via: "telegram") else {
                Issue.record("a second answer was not refused")
                return
            }
            #expect(closed.answer == 1)
        }
        #expect(try store.approval(id: record.id)?.answer == 1)
    }

    @Test func unknownAndForeignTokensDecideNothing() throws {
        let (record, _, _) = try question(in: store, signer: signer)
        #expect(try store.answer(tokenDigest: signer.digest(OneTimeToken()), by: "x", via: "telegram") == .unknown)
        // A token made under another key (another user's state directory) is unknown here.
        let other = TokenSigner.load(directory: nil)
        let (_, foreignAnswers, _) = try question(in: SQLiteStore.inMemory(), signer: other)
        #expect(try store.answer(tokenDigest: signer.digest(foreignAnswers[0]), by: "x", via: "telegram") == .unknown)
        #expect(try store.approval(id: record.id)?.state == .pending)
    }

    @Test func answersAfterExpiryAreRefusedAndMarkItExpired() throws {
        let (record, answers, _) = try question(in: store, signer: signer, expiresIn: 1)
        let later = Date().addingTimeInterval(5)
        guard case .alreadyClosed(let closed) = try store.answer(tokenDigest: signer.digest(answers[0]), by: "@ada", via: "telegram", now: later) else {
            Issue.record("an answer after expiry counted")
            return
        }
        #expect(closed.state == .expired && closed.answer == nil)
        #expect(try store.approval(id: record.id)?.state == .expired)
    }

    @Test func aWithdrawnQuestionTakesNoAnswer() throws {
        let (record, answers, _) = try question(in: store, signer: signer)
        #expect(try store.closeApproval(id: record.id, as: .withdrawn)?.state == .withdrawn)
        #expect(try store.answer(tokenDigest: signer.digest(answers[0]), by: "@ada", via: "telegram") != .decided(record))
        #expect(try store.approval(id: record.id)?.state == .withdrawn)
        // Closing again keeps the first outcome.
        #expect(try store.closeApproval(id: record.id, as: .expired)?.state == .withdrawn)
    }

    @Test func anAnswerForAnAskerThatDiedIsNotCounted() throws {
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let answers = [OneTimeToken(), OneTimeToken()]
        var record = ApprovalRecord(
            id: "gone", kind: "permission", title: "Run?", detail: "ls", options: ["Allow", "Deny"], createdAt: Date(),
            expiresAt: Date().addingTimeInterval(60))
        record.waiterPID = finished.processIdentifier
        try store.createApproval(record, tokens: answers.enumerated().map { (signer.digest($1), .answer($0)) })
        guard case .alreadyClosed(let closed) = try store.answer(tokenDigest: signer.digest(answers[0]), by: "@ada", via: "telegram") else {
            Issue.record("an answer for a dead asker counted")
            return
        }
        #expect(closed.state == .withdrawn && closed.answer == nil)
    }

    @Test func aPageAnswerNeedsItsOwnPage() throws {
        let (_, _, page) = try question(in: store, signer: signer)
        let (_, _, otherPage) = try question(in: store, signer: signer)
        let answer = signer.derive(from: page, choice: 0)
        #expect(try store.answer(tokenDigest: signer.digest(answer), page: signer.digest(otherPage), by: "web page", via: "web") == .unknown)
        // A page token is not an answer.
        #expect(try store.answer(tokenDigest: signer.digest(page), by: "web page", via: "web") == .unknown)
        guard case .decided(let decided) = try store.answer(tokenDigest: signer.digest(answer), page: signer.digest(page), by: "web page", via: "web") else {
            Issue.record("the page's own answer did not count")
            return
        }
        #expect(decided.answerLabel == "Allow" && decided.answeredVia == "web")
    }
}

/// One holder at a time; a holder that stops renewing is replaced once its lease runs out.
@Suite struct LeaseTests {
    @Test func oneHolderAtATime() throws {
        let store = SQLiteStore.inMemory()
        let now = Date()
        #expect(try store.takeLease("bot", holder: "a", for: .seconds(10), now: now))
        #expect(try !store.takeLease("bot", holder: "b", for: .seconds(10), now: now.addingTimeInterval(1)))
        #expect(try store.takeLease("bot", holder: "a", for: .seconds(10), now: now.addingTimeInterval(2)))
        #expect(try store.takeLease("bot", holder: "b", for: .seconds(10), now: now.addingTimeInterval(13)))
        try store.setLeaseValue("bot", "42")
        try store.releaseLease("bot", holder: "b")
        #expect(try store.takeLease("bot", holder: "c", for: .seconds(10), now: now.addingTimeInterval(14)))
        #expect(try store.leaseValue("bot") == "42")  // the offset survives the change of holder
        try store.releaseLease("bot", holder: "a")  // not the holder: no effect
        #expect(try !store.takeLease("bot", holder: "d", for: .seconds(10), now: now.addingTimeInterval(15)))
    }
}

/// What the phone shows of a tool call: enough to judge it, no credentials.
@Suite struct PreviewTests {
    func preview(_ input: JSONValue, tool: String = "Bash", redact: (String) -> String = { $0 }) -> String {
        ApprovalPreview.text(tool: tool, input: input, redact: redact)
    }

    @Test func secretsAreMaskedAndTheCommandKept() {
        let cases: [(String, [String], [String])] = [
            ("mysql -u root --password=hunter2 shop", ["hunter2"], ["mysql -u root", "shop"]),
            ("curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abc' https://api.example.com", ["eyJhbGciOiJIUzI1NiJ9abc"], ["curl", "api.example.com"]),
            ("git clone https://bob:s3cret@git.example.com/x.git", ["s3cret"], ["git clone", "git.example.com/x.git"]),
            ("export API_KEY=sk_live_abcdefghijklmnop123456 && deploy", ["sk_live_abcdefghijklmnop123456"], ["export API_KEY=", "deploy"]),
            ("aws s3 cp x s3://bucket --token AKIAIOSFODNN7EXAMPLE12", ["AKIAIOSFODNN7EXAMPLE12"], ["aws s3 cp"]),
            ("echo ghp_16C7e42F292c6912E7710c838347Ae178B4a", ["ghp_16C7e42F292c6912E7710c838347Ae178B4a"], ["echo", "ghp_"]),
            ("rm -rf build/generated/very/long/path/name", [], ["rm -rf build/generated/very/long/path/name"]),
        ]
        for (command, hidden, shown) in cases {
            let text = preview(["command": .string(command)])
            for secret in hidden { #expect(!text.contains(secret), "\(text)") }
            for part in shown { #expect(text.contains(part), "\(text)") }
        }
    }

    @Test func secretNamedFieldsAndConfiguredSecretsAreMasked() {
        let text = preview(["url": "https://example.com", "api_key": "plain", "headers": ["X-Token": "abc", "Accept": "json"], "note": "hello"], tool: "WebFetch")
        #expect(!text.contains("plain") && !text.contains("abc"))
        #expect(text.contains("json") && text.contains("hello"))
        let configured = preview(["command": "echo TOPSECRETVALUE"]) { $0.replacingOccurrences(of: "TOPSECRETVALUE", with: "TOPS•••") }
        #expect(!configured.contains("TOPSECRETVALUE"))
    }

    @Test func controlAndDirectionCharactersAreShownNotObeyed() {
        let text = preview(["command": "rm -rf \u{202E}txt.exe\u{202C} \u{0}\u{1B}[2J \u{200B}x"])
        #expect(text == "rm -rf <U+202E>txt.exe<U+202C> <U+0><U+1B>[2J <U+200B>x")
        #expect(preview(["command": "a\nb\tc é 😀"]) == "a\nb\tc é 😀")
    }

    @Test func secretsInsideArraysAreMasked() {
        let text = preview(["items": [1, ["password": "p4ss", "name": "db"]], "other": "x"], tool: "Custom")
        #expect(!text.contains("p4ss") && text.contains("name: db"))
    }

    @Test func longInputIsCut() {
        let text = preview(["command": .string(String(repeating: "echo hi; ", count: 500))])
        #expect(text.count <= ApprovalPreview.maximumCharacters + 2 && text.hasSuffix("…"))
    }
}

/// The page: shown by its token, answered only by a post from itself.
@Suite struct PageTests {
    @Test func crossSitePostsAreRefusedAndPagesEscapeWhatTheyShow() async throws {
        let directory = try temporaryDirectory()
        let notifier = try Notifier(configuration: Configuration([:]), store: .directory(directory))
        let pages = await ApprovalPages(notifier: notifier, logger: Logger(label: "test"))
        let store = await notifier.store
        let page = OneTimeToken()
        let now = Date()
        let record = ApprovalRecord(
            id: "q1", kind: "question", title: "<script>alert(1)</script>", detail: "a & b", options: ["<b>yes</b>", "no"],
            createdAt: now, expiresAt: now.addingTimeInterval(60))
        try await store.createApproval(
            record, tokens: [(pages.signer.digest(page), .page)] + [0, 1].map { (pages.signer.digest(pages.signer.derive(from: page, choice: $0)), .answer($0)) })
        let shown = await pages.show(token: page.text)
        #expect(shown.status == 200 && !shown.html.contains("<script>alert") && shown.html.contains("&lt;b&gt;yes&lt;/b&gt;"))
        let answer = pages.signer.derive(from: page, choice: 0).text
        #expect(await pages.submit(token: page.text, form: "answer=\(answer)", origin: "https://evil.example", host: "127.0.0.1:8765").status == 403)
        #expect(try await store.approval(id: "q1")?.state == .pending)
        #expect(await pages.show(token: "../../etc/passwd").status == 404)
        #expect(await pages.submit(token: page.text, form: "answer=\(answer)", origin: "http://127.0.0.1:8765", host: "127.0.0.1:8765").status == 200)
        #expect(try await store.approval(id: "q1")?.answerLabel == "<b>yes</b>")
        await notifier.shutdown()
    }
}
