import Foundation
import JSONText

/// Any HTTP endpoint: the URL, headers and body are templates in which `$title` and
/// `$content` are replaced, each escaped for where it lands.
public struct Webhook: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "webhook",
        displayName: "Custom webhook",
        defaultBaseURL: nil,
        variables: [
            .required("WEBHOOK_URL", "the URL; $title and $content in it are replaced, URL-encoded"),
            .required("WEBHOOK_METHOD", "GET, POST, PUT, PATCH or DELETE"),
            .optional("WEBHOOK_CONTENT_TYPE", "application/json (default with a body), application/x-www-form-urlencoded, multipart/form-data or text/plain"),
            .optional("WEBHOOK_HEADERS", "extra headers, one `Name: value` per line"),
            .optional("WEBHOOK_BODY", "the body: `key: value` lines (a value may be JSON), or any text for text/plain"),
        ])

    enum BodyFormat: String, CaseIterable {
        case json = "application/json"
        case form = "application/x-www-form-urlencoded"
        case multipart = "multipart/form-data"
        case text = "text/plain"
    }

    static let methods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    /// Header names whose values are credentials, kept out of results and logs.
    static let secretHeaderWords = ["authorization", "token", "key", "secret", "signature", "password", "cookie", "auth"]
    /// Query parameter names whose values are credentials.
    static let secretQueryWords = ["token", "key", "secret", "sign", "password", "auth", "sendkey"]

    let url: String
    let method: String
    let format: BodyFormat?
    let headers: [(String, String)]
    let body: String?
    public let secrets: [String]

    public init?(configuration: Configuration) throws(ConfigurationError) {
        let optional = ["WEBHOOK_CONTENT_TYPE", "WEBHOOK_HEADERS", "WEBHOOK_BODY"]
        guard let values = try configuration.group("WEBHOOK_URL", "WEBHOOK_METHOD") else {
            if optional.contains(where: configuration.contains) { throw .missing(["WEBHOOK_URL", "WEBHOOK_METHOD"]) }
            return nil
        }
        // The URL is checked with the placeholders filled, as it will be sent.
        _ = try Configuration.validatedURL(
            values[0].replacingOccurrences(of: "$title", with: "t").replacingOccurrences(of: "$content", with: "c"),
            variable: "WEBHOOK_URL")
        url = values[0]
        method = values[1].uppercased()
        guard Self.methods.contains(method) else {
            throw .invalid("WEBHOOK_METHOD", "expected one of GET, POST, PUT, PATCH, DELETE, got \"\(values[1])\"")
        }
        body = configuration.raw("WEBHOOK_BODY").flatMap { $0.trimmingWhitespace().isEmpty ? nil : $0 }
        if let type = configuration["WEBHOOK_CONTENT_TYPE"] {
            let bare = type.split(separator: ";").first.map { $0.trimmingWhitespace().lowercased() } ?? ""
            guard let format = BodyFormat(rawValue: bare) else {
                throw .invalid("WEBHOOK_CONTENT_TYPE", "expected one of \(BodyFormat.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(type)\"")
            }
            self.format = format
        } else {
            format = body == nil ? nil : .json
        }
        if method == "GET" && body != nil {
            throw .invalid("WEBHOOK_BODY", "a GET request has no body: put $title and $content in WEBHOOK_URL, or use POST")
        }
        headers = try Self.lines(configuration.raw("WEBHOOK_HEADERS") ?? "", variable: "WEBHOOK_HEADERS")
        if let body, format != .text { _ = try Self.lines(body, variable: "WEBHOOK_BODY") }
        secrets = Self.secrets(url: url, headers: headers)
    }

    /// `key: value` lines; blank lines and `#` comments are skipped.
    static func lines(_ text: String, variable: String) throws(ConfigurationError) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingWhitespace()
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            guard let colon = trimmed.firstIndex(of: ":"), colon != trimmed.startIndex else {
                throw .invalid(variable, "each line must be `key: value`, got \"\(Redactor.maskValue(String(trimmed)))\"")
            }
            pairs.append((
                String(trimmed[..<colon]).trimmingWhitespace(),
                String(trimmed[trimmed.index(after: colon)...]).trimmingWhitespace()))
        }
        return pairs
    }

    static func secrets(url: String, headers: [(String, String)]) -> [String] {
        var secrets = headers.filter { name, _ in secretHeaderWords.contains { name.lowercased().contains($0) } }.flatMap { _, value in
            // `Bearer abc` hides abc, whatever the scheme word.
            [value] + value.split(separator: " ").dropFirst().map(String.init)
        }
        if let components = URLComponents(string: url) {
            secrets += (components.queryItems ?? []).compactMap { item in
                secretQueryWords.contains { item.name.lowercased().contains($0) } ? item.value : nil
            }
            if let password = components.password { secrets.append(password) }
        }
        return secrets.filter { !$0.isEmpty && !$0.contains("$title") && !$0.contains("$content") }
    }

    public var summary: String {
        var shown = url
        for secret in secrets { shown = shown.replacingOccurrences(of: secret, with: "***") }
        return "\(method) \(shown)" + (format.map { " (\($0.rawValue))" } ?? "")
    }

    /// Fills `$title` and `$content` in one pass over the template: what is put in is never read
    /// again, so a message that itself says `$content` arrives as written.
    static func fill(_ template: String, _ message: Message, escape: (String) -> String) -> String {
        var output = ""
        var rest = template[...]
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let after = rest[dollar...]
            if after.hasPrefix("$title") {
                output += escape(message.title)
                rest = after.dropFirst("$title".count)
            } else if after.hasPrefix("$content") {
                output += escape(message.body)
                rest = after.dropFirst("$content".count)
            } else {
                output += "$"
                rest = after.dropFirst()
            }
        }
        output += rest
        return output
    }

    /// A JSON value from one body template: if the template is JSON once the texts are
    /// placed in it JSON-escaped (`"$content"`, `{"text": "$title"}`, `42`), that JSON;
    /// otherwise the filled-in text as a JSON string.
    static func jsonValue(_ template: String, _ message: Message) -> JSONValue {
        let escaped = fill(template, message) { text in
            var literal = ""
            OrderedJSON.writeString(text, to: &literal)
            return String(literal.dropFirst().dropLast())
        }
        if let value = JSONValue.decode(Data(escaped.utf8)) { return value }
        return .string(fill(template, message) { $0 })
    }

    func request(for message: Message) throws -> HTTPRequestSpec {
        let target = Self.fill(url, message, escape: PercentEncoding.encode)
        var requestHeaders = headers.map { name, value in
            // A header value cannot hold a line break.
            (name, Self.fill(value, message) { $0.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ") })
        }
        var data: Data?
        if let body, let format {
            let pairs = format == .text ? [] : (try? Self.lines(body, variable: "WEBHOOK_BODY")) ?? []
            let contentType: String
            switch format {
            case .json:
                var object: [(String, OrderedJSON)] = []
                for (key, template) in pairs { object.append((key, OrderedJSON(Self.jsonValue(template, message)))) }
                data = Data(OrderedJSON.object(object).text.utf8)
                contentType = "application/json; charset=utf-8"
            case .form:
                data = Data(PercentEncoding.form(pairs.map { ($0.0, Self.fill($0.1, message) { $0 }) }).utf8)
                contentType = "application/x-www-form-urlencoded; charset=utf-8"
            case .multipart:
                let boundary = "mcp-push-\(UUID().uuidString)"
                var text = ""
                for (key, template) in pairs {
                    let name = key.replacingOccurrences(of: "\"", with: "%22")
                    text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n"
                    text += Self.fill(template, message) { $0 } + "\r\n"
                }
                text += "--\(boundary)--\r\n"
                data = Data(text.utf8)
                contentType = "multipart/form-data; boundary=\(boundary)"
            case .text:
                data = Data(Self.fill(body, message) { $0 }.utf8)
                contentType = "text/plain; charset=utf-8"
            }
            if !requestHeaders.contains(where: { $0.0.lowercased() == "content-type" }) {
                requestHeaders.insert(("Content-Type", contentType), at: 0)
            }
        }
        return HTTPRequestSpec(method: .init(rawValue: method), url: target, headers: requestHeaders, body: data)
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let answer = try await context.perform(try request(for: message))
        guard answer.isSuccess else {
            return .rejected(
                status: answer.status, answer.httpFailureSummary, transient: answer.isTransientStatus,
                retryAfter: answer.retryAfterHeader)
        }
        return .delivered(status: answer.status)
    }
}

extension OrderedJSON {
    /// Object keys in sorted order: a template's nested JSON has no order of its own to keep.
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let bool): self = .bool(bool)
        case .int(let int): self = .int(int)
        case .double(let double): self = .double(double)
        case .string(let string): self = .string(string)
        case .array(let items): self = .array(items.map(OrderedJSON.init))
        case .object(let members): self = .object(members.sorted { $0.key < $1.key }.map { ($0.key, OrderedJSON($0.value)) })
        }
    }
}
