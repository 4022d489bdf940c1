import Foundation
import NIOHTTP1

/// A channel's reading of a service's JSON answer.
public enum Verdict: Sendable, Equatable {
    case accepted
    /// The service refused; `reason` is its own words (code and message).
    case rejected(String, transient: Bool = false, retryAfter: Duration? = nil)

    /// An answer without the fields the service's API promises: quoted, so the reader sees what came back.
    public static func unexpected(_ answer: HTTPAnswer) -> Verdict {
        .rejected("unexpected answer: \(answer.snippet)")
    }
}

extension HTTPAnswer {
    /// Judges a JSON API answer: delivered only when the status is 2xx *and* `check`
    /// accepts the body. Many services answer failures with HTTP 200 and an error
    /// code, and some answer errors with a 4xx and a JSON reason, so both are read.
    public func judge(_ check: (JSONValue) -> Verdict) -> Delivery {
        let retryAfter = retryAfterHeader
        let transientStatus = isTransientStatus
        guard let json else {
            // A 2xx whose body was too big to read whole: the status is all the service said we can read,
            // and re-sending what it accepted would be worse than trusting it.
            if isSuccess && isCut { return .delivered(status: status) }
            if isSuccess {
                return .rejected(status: status, "unexpected answer (not JSON): \(snippet)")
            }
            return .rejected(status: status, httpFailureSummary, transient: transientStatus, retryAfter: retryAfter)
        }
        switch check(json) {
        case .accepted where isSuccess:
            return .delivered(status: status)
        case .accepted:
            return .rejected(status: status, httpFailureSummary, transient: transientStatus, retryAfter: retryAfter)
        case .rejected(let reason, let transient, let serviceRetryAfter):
            let prefix = isSuccess ? "" : "HTTP \(status): "
            return .rejected(
                status: status, prefix + reason, transient: transient || transientStatus,
                retryAfter: serviceRetryAfter ?? retryAfter)
        }
    }

    /// Too many requests, or the service's own trouble: worth another try later. Any other
    /// refusal is about the request, which a retry does not change.
    public var isTransientStatus: Bool { status == 429 || status >= 500 }

    /// `HTTP 502 Bad Gateway: <start of the body>`.
    public var httpFailureSummary: String {
        let phrase = HTTPResponseStatus(statusCode: status).reasonPhrase
        let detail = snippet
        return detail.isEmpty ? "HTTP \(status) \(phrase)" : "HTTP \(status) \(phrase): \(detail)"
    }

    /// The start of the body on one line; HTML pages (proxies, wrong URLs) are not quoted.
    public var snippet: String {
        let contentType = headers.first(name: "content-type")?.lowercased() ?? ""
        let raw = text
        if contentType.contains("html") || raw.lowercased().hasPrefix("<!doctype") || raw.lowercased().hasPrefix("<html") {
            return "an HTML page, not the service's API (check the URL)"
        }
        let collapsed = raw.split(whereSeparator: \.isNewline).joined(separator: " ")
            .trimmingWhitespace()
        return collapsed.count > 300 ? String(collapsed.prefix(300)) + "…" : collapsed
    }

    /// `Retry-After` in seconds or as an HTTP date.
    public var retryAfterHeader: Duration? {
        guard let value = headers.first(name: "retry-after")?.trimmingWhitespace() else { return nil }
        if let seconds = Double(value), seconds >= 0 {
            return .milliseconds(Int64(seconds * 1000))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSinceNow) * 1000))
    }
}

extension JSONValue {
    /// `"<code>: <message>"` from the usual pair of fields, for rejection reasons.
    public func reason(code codeKey: String, message messageKeys: String...) -> String {
        let code = self[codeKey]?.text ?? "?"
        let message = messageKeys.lazy.compactMap { self[$0]?.text }.first { !$0.isEmpty }
        return message.map { "\(codeKey) \(code): \($0)" } ?? "\(codeKey) \(code)"
    }
}
