import Foundation
import Logging
import PushCore

/// The answer page `mcp-push serve --transport http` shows at `/approve/<token>`: the question
/// and one button per option. Seeing it never decides anything (chat apps fetch links to preview
/// them); only a button's POST from the page itself does, with the option's own one-time token.
public struct ApprovalPages: Sendable {
    public static let pathPrefix = "/approve/"

    public struct Page: Sendable, Equatable {
        public let status: Int
        public let html: String
    }

    let store: any StateStore
    let signer: TokenSigner
    let logger: Logger

    public init(notifier: Notifier, logger: Logger) async {
        let store = await notifier.store
        self.store = store
        self.signer = await TokenSigner.load(store: store)
        self.logger = logger
    }

    /// GET: the question, or what became of it.
    public func show(token presented: String) async -> Page {
        guard let token = OneTimeToken(presented: presented),
            let (record, purpose) = try? await store.approval(tokenDigest: signer.digest(token)), purpose == .page
        else { return refused("an unknown or altered page token") }
        guard record.state == .pending, record.expiresAt > Date() else { return Self.closed(record) }
        // Each button posts its own option's token (derived from the page token under the key, so
        // only our processes can make them): the POST is the answer, bound to that one option.
        let buttons = record.options.enumerated().map { index, label in
            """
            <form method="post" action="\(Self.pathPrefix)\(token.text)"><input type="hidden" name="answer" value="\(signer.derive(from: token, choice: index).text)"><button type="submit">\(HTMLText.escaped(label))</button></form>
            """
        }.joined(separator: "\n")
        return Page(
            status: 200,
            html: Self.document(
                title: record.title,
                body: """
                    <h1>\(HTMLText.escaped(record.title))</h1>
                    <pre>\(HTMLText.escaped(record.detail))</pre>
                    <p class="expires">Open until \(Self.time(record.expiresAt)).</p>
                    <div class="buttons">\(buttons)</div>
                    """))
    }

    /// POST: answers with the chosen option, if the request is still open. `origin` (the
    /// browser's Origin header) must be this server's own when present: another site's form
    /// cannot answer for the person.
    public func submit(token presented: String, form: String, origin: String?, host: String?) async -> Page {
        if let origin, origin != "null", !Self.sameHost(origin: origin, host: host) {
            logger.warning("approval page: refused an answer posted from another origin")
            return Page(status: 403, html: Self.document(title: "Refused", body: "<h1>Refused</h1><p>Answers are accepted from this page only.</p>"))
        }
        guard let token = OneTimeToken(presented: presented), let answer = Self.formValue(form, "answer").flatMap(OneTimeToken.init(presented:))
        else { return refused("an answer without a well-formed token") }
        let use = try? await store.answer(tokenDigest: signer.digest(answer), page: signer.digest(token), by: "web page", via: "web", now: Date())
        switch use ?? .unknown {
        case .decided(let record):
            return Page(
                status: 200,
                html: Self.document(
                    title: "Answered",
                    body: "<h1>\(HTMLText.escaped(record.answerLabel ?? "Answered"))</h1><p>Your answer was sent. You can close this page.</p>"))
        case .alreadyClosed(let record):
            logger.info("approval page: an answer after the question was closed (\(record.state.rawValue)) changed nothing")
            return Self.closed(record)
        case .unknown:
            return refused("an answer with an unknown or altered token")
        }
    }

    /// Not found, and logged (never the token itself).
    private func refused(_ what: String) -> Page {
        logger.warning("approval page: refused \(what)")
        return Self.notFound
    }

    static let notFound = Page(
        status: 404, html: document(title: "Not found", body: "<h1>Not found</h1><p>This link is not (or no longer) valid.</p>"))

    static func closed(_ record: ApprovalRecord) -> Page {
        let text: String
        switch record.state {
        case .answered: text = "Already decided: \(HTMLText.escaped(record.answerLabel ?? "answered"))\(record.answeredVia.map { " (\(HTMLText.escaped($0)))" } ?? "")."
        case .withdrawn: text = "Already decided elsewhere."
        case .expired, .pending: text = "This question expired."
        }
        return Page(status: 409, html: document(title: "Closed", body: "<h1>\(HTMLText.escaped(record.title))</h1><p class=\"closed\">\(text)</p>"))
    }

    static func sameHost(origin: String, host: String?) -> Bool {
        guard let host, let schemeEnd = origin.range(of: "://") else { return false }
        return origin[schemeEnd.upperBound...].lowercased() == host.lowercased()
    }

    static func formValue(_ form: String, _ name: String) -> String? {
        for pair in form.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == name { return String(parts[1]).removingPercentEncoding }
        }
        return nil
    }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: date)
    }

    static func document(title: String, body: String) -> String {
        """
        <!doctype html>
        <html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex"><title>\(HTMLText.escaped(title)) · mcp-push</title>
        <style>body{font:16px system-ui,sans-serif;margin:1.5em;max-width:40em}pre{white-space:pre-wrap;background:#f4f4f4;padding:.8em}
        .buttons{display:flex;gap:1em;flex-wrap:wrap}button{font-size:1.2em;padding:.6em 1.6em}</style></head>
        <body>\(body)</body></html>
        """
    }
}
