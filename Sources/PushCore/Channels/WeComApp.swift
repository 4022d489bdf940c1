import Foundation
import Synchronization

/// WeCom (企业微信) application message, sent with an access token that is fetched once
/// and reused until it expires.
public struct WeComApp: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "wecom_app",
        displayName: "WeCom application",
        defaultBaseURL: "https://qyapi.weixin.qq.com",
        variables: [
            .required(
                "QYWX_AM", secret: true,
                "corpid,corpsecret,touser,agentid[,media_id]: touser is user ids joined by | or @all; "
                    + "a media_id other than 0 or 1 sends an mpnews article with that thumbnail"),
            .optional("QYWX_ORIGIN", "replaces https://qyapi.weixin.qq.com, e.g. a reverse proxy (shared with wecom_bot)"),
        ],
        rateLimits: [RateLimit(30, per: .seconds(60))],
        // Longer text is cut silently by the service.
        maximumLength: .bytes(2048), carriesLinks: true, rendersMarkdown: true)

    static let fieldNames = ["corpid", "corpsecret", "touser", "agentid", "media_id"]
    /// Answers meaning the access token is no longer good: fetch a new one and send again, once.
    static let staleTokenCodes: Set<Int> = [40014, 42001]

    let origin: String
    let corpID: String
    let corpSecret: String
    let recipients: String
    let agentID: Int
    /// Thumbnail of an mpnews article; nil sends plain text.
    let thumbMediaID: String?
    let tokens = TokenCache()

    public init?(configuration: Configuration) throws(ConfigurationError) {
        // QYWX_ORIGIN alone does not count: the WeCom robot channel shares it.
        guard let value = configuration["QYWX_AM"] else { return nil }
        var fields = value.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingWhitespace() }
        if fields.count == 5, fields[4].isEmpty { fields.removeLast() }
        guard (4...5).contains(fields.count) else {
            throw .invalid("QYWX_AM", "expected corpid,corpsecret,touser,agentid[,media_id] (4 or 5 comma-separated fields), got \(fields.count)")
        }
        if let empty = fields.firstIndex(where: \.isEmpty) {
            throw .invalid("QYWX_AM", "the \(Self.fieldNames[empty]) field (field \(empty + 1)) is empty")
        }
        guard let agentID = Int(fields[3]) else {
            throw .invalid("QYWX_AM", "agentid (field 4) must be the application's numeric AgentId")
        }
        corpID = fields[0]
        corpSecret = fields[1]
        recipients = fields[2]
        self.agentID = agentID
        // The original's docs give 0 (a text card) and 1 (text) special meanings; a text card
        // needs a link to open, which a notification does not have, so both send text.
        thumbMediaID = fields.count == 5 && !["0", "1"].contains(fields[4]) ? fields[4] : nil
        origin = try WeComBot.origin(configuration, descriptor: Self.descriptor)
    }

    public var secrets: [String] { [corpSecret] }

    public var summary: String {
        "app \(agentID) of corp \(corpID) to \(recipients), \(thumbMediaID == nil ? "text" : "mpnews article")"
            + (origin == Self.descriptor.defaultBaseURL ? "" : " via \(origin)")
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let body = payload(message)
        var token: String
        var isFresh = false
        if let cached = tokens.current() {
            token = cached
        } else {
            switch try await fetchToken(context) {
            case .token(let value): token = value
            case .failed(let delivery): return delivery
            }
            isFresh = true
        }
        let (delivery, tokenIsStale) = try await post(body, token: token, context: context)
        guard tokenIsStale, !isFresh else { return delivery }
        // WeCom can revoke a token before its stated expiry: fetch a new one and try once more.
        tokens.discard(token)
        switch try await fetchToken(context) {
        case .token(let value): token = value
        case .failed(let delivery): return delivery
        }
        return try await post(body, token: token, context: context).delivery
    }

    func payload(_ message: Message) -> JSONValue {
        var body: [String: JSONValue] = ["touser": .string(recipients), "agentid": .int(agentID), "safe": 0]
        if let thumbMediaID {
            let text = message.body.isEmpty ? message.title : message.plainBody
            let article: JSONValue = [
                "title": .string(message.title),
                "thumb_media_id": .string(thumbMediaID),
                "content": .string(message.format == .markdown && !message.body.isEmpty ? Markdown.emailHTML(message.body) : Self.html(text)),
                "digest": .string(text),
                "content_source_url": message.url.map(JSONValue.string) ?? .null,
            ]
            body["msgtype"] = "mpnews"
            body["mpnews"] = ["articles": [article]]
        } else if let link = message.url {
            // A text card opens the link from its button; its description is HTML of at most 512 bytes.
            body["msgtype"] = "textcard"
            body["textcard"] = [
                "title": .string(Message.prefix(of: message.title, fitting: 128, in: .bytes(128))),
                "description": .string(Self.cardDescription(message.body.isEmpty ? message.title : message.plainBody)),
                "url": .string(link), "btntxt": "Open",
            ]
        } else if message.format == .markdown {
            body["msgtype"] = "markdown"
            body["markdown"] = ["content": .string(message.markdownText)]
        } else {
            body["msgtype"] = "text"
            body["text"] = ["content": .string(message.text)]
        }
        return .object(body)
    }

    /// A text card's description: the text as HTML, cut at a character (never inside an escape) to
    /// the card's 512 bytes, with an ellipsis when cut.
    static func cardDescription(_ text: String, limit: Int = 512) -> String {
        var result = ""
        for character in text {
            let piece = html(String(character))
            if result.utf8.count + piece.utf8.count > limit - "…".utf8.count {
                return result + "…"
            }
            result += piece
        }
        return result
    }


    /// Plain text as the HTML an mpnews article shows: escaped, line breaks kept.
    static func html(_ text: String) -> String {
        HTMLText.escaped(text).replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "<br>")
    }

    enum TokenOutcome {
        case token(String)
        case failed(Delivery)
    }

    func fetchToken(_ context: DeliveryContext) async throws -> TokenOutcome {
        let query = PercentEncoding.form([("corpid", corpID), ("corpsecret", corpSecret)])
        let answer = try await context.perform(HTTPRequestSpec(method: .GET, url: "\(origin)/cgi-bin/gettoken?\(query)"))
        var token: String?
        var lifetime = 7200
        let delivery = answer.judge { json in
            guard let code = json["errcode"]?.int else { return .rejected("gettoken: unexpected answer: \(answer.snippet)") }
            guard code == 0, let value = json["access_token"]?.string, !value.isEmpty else {
                return Self.rejection("gettoken: ", json, code: code)
            }
            token = value
            lifetime = json["expires_in"]?.int ?? lifetime
            return .accepted
        }
        guard delivery.ok, let token else { return .failed(delivery) }
        context.redactor.register(token)
        tokens.store(token, lifetime: .seconds(lifetime))
        return .token(token)
    }

    func post(_ body: JSONValue, token: String, context: DeliveryContext) async throws -> (delivery: Delivery, tokenIsStale: Bool) {
        let url = "\(origin)/cgi-bin/message/send?\(PercentEncoding.form([("access_token", token)]))"
        let answer = try await context.perform(.json(url, body))
        var tokenIsStale = false
        let delivery = answer.judge { json in
            guard let code = json["errcode"]?.int else { return .unexpected(answer) }
            guard code == 0 else {
                tokenIsStale = Self.staleTokenCodes.contains(code)
                return Self.rejection("", json, code: code)
            }
            // errcode 0 can still leave some recipients out: those are listed here.
            let unreached = ["invaliduser", "invalidparty", "invalidtag", "unlicenseduser"].compactMap { key -> String? in
                guard let value = json[key], value != .null, !value.text.isEmpty else { return nil }
                return "\(key) \(value.text)"
            }
            guard unreached.isEmpty else {
                return .rejected(
                    "errcode 0 but not delivered to \(unreached.joined(separator: ", ")) (check touser in QYWX_AM: "
                        + "ids must exist and be in the app's visible range; unlicenseduser lacks a WeCom license)")
            }
            return .accepted
        }
        return (delivery, tokenIsStale)
    }

    static func rejection(_ prefix: String, _ json: JSONValue, code: Int) -> Verdict {
        let reason = prefix + json.reason(code: "errcode", message: "errmsg")
        switch code {
        case -1: return .rejected(reason + " (WeCom is busy)", transient: true)
        case 45009: return .rejected(reason + " (API call limit reached)", transient: true)
        case 40013: return .rejected(reason + " (check corpid, field 1 of QYWX_AM)")
        case 40001, 40091: return .rejected(reason + " (check corpsecret, field 2 of QYWX_AM: the application's Secret)")
        case 40007: return .rejected(reason + " (check media_id, field 5 of QYWX_AM)")
        case 40056: return .rejected(reason + " (check agentid, field 4 of QYWX_AM)")
        case 60020:
            return .rejected(reason + " (this machine's public IP is not in the application's trusted IP list (企业可信IP): "
                + "add it in the WeCom admin console, or send through a proxy set in QYWX_ORIGIN)")
        case 81013, 82001: return .rejected(reason + " (check touser, field 3 of QYWX_AM)")
        default: return .rejected(reason)
        }
    }
}

extension WeComApp {
    /// The access token, shared by every send of one configured application.
    final class TokenCache: Sendable {
        private struct Entry {
            let token: String
            let renewAt: ContinuousClock.Instant
        }

        private let entry = Mutex<Entry?>(nil)

        /// The token, unless it is close to expiry.
        func current() -> String? {
            entry.withLock { entry in
                guard let entry, ContinuousClock.now < entry.renewAt else { return nil }
                return entry.token
            }
        }

        /// Keeps `token` for its lifetime less a safety margin, so a send never races the expiry.
        func store(_ token: String, lifetime: Duration) {
            let margin = min(Duration.seconds(300), lifetime / 2)
            entry.withLock { $0 = Entry(token: token, renewAt: .now + lifetime - margin) }
        }

        /// Forgets `token` after the service refused it (a newer one may already be stored).
        func discard(_ token: String) {
            entry.withLock { entry in
                if entry?.token == token { entry = nil }
            }
        }
    }
}
