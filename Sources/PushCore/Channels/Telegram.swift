import Foundation

/// Telegram bot: `sendMessage` to one chat, as plain text (Markdown as Telegram's HTML), a link on a
/// button, optionally through an HTTP proxy.
public struct Telegram: Channel {
    public static let descriptor = ChannelDescriptor(
        id: "telegram",
        displayName: "Telegram bot",
        defaultBaseURL: "https://api.telegram.org",
        variables: [
            .required("TG_BOT_TOKEN", secret: true, "bot token from @BotFather, e.g. 123456789:AAE..."),
            .required("TG_USER_ID", "chat id to send to: your numeric user id, a negative group id, or @channelname"),
            .optional("TG_API_HOST", "replaces https://api.telegram.org, e.g. a reverse proxy (https:// is assumed when no scheme is given)"),
            .optional("TG_PROXY_HOST", "HTTP proxy host name or IP"),
            .optional("TG_PROXY_PORT", "HTTP proxy port"),
            .optional("TG_PROXY_AUTH", secret: true, "proxy credentials as user:password"),
        ],
        rateLimits: [RateLimit(20, per: .seconds(60))],
        // Longer texts go as up to four messages, split on line breaks, rather than cut.
        maximumLength: .utf16(4096), carriesLinks: true, maximumParts: 4, rendersMarkdown: true)

    /// What BotFather hands out: the bot's numeric id, a colon, then the secret part.
    static func isToken(_ token: String) -> Bool {
        guard let colon = token.firstIndex(of: ":") else { return false }
        return token[..<colon].isDigits && token[token.index(after: colon)...].isWord()
    }

    package let apiBase: String
    package let token: String
    package let chatID: String
    package let proxy: HTTPProxy?

    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard Self.descriptor.variables.contains(where: { configuration.contains($0.name) }) else { return nil }
        let token = configuration["TG_BOT_TOKEN"]
        let chatID = configuration["TG_USER_ID"]
        let missing = [("TG_BOT_TOKEN", token), ("TG_USER_ID", chatID)].filter { $0.1 == nil }.map(\.0)
        guard let token, let chatID else { throw .missing(missing) }
        guard Self.isToken(token) else {
            throw .invalid("TG_BOT_TOKEN", "expected the token @BotFather gave, like 123456789:AAE... (without a bot prefix or URL)")
        }
        self.token = token
        self.chatID = chatID
        if let host = configuration["TG_API_HOST"] {
            // The original's example gave the host without a scheme; both forms are accepted.
            let url = host.contains("://") ? host : "https://" + host
            apiBase = try Configuration.validatedURL(url, variable: "TG_API_HOST").trimmingSuffix("/")
        } else {
            apiBase = try configuration.baseURL(for: Self.descriptor)
        }
        proxy = try Self.proxy(configuration)
    }

    /// TG_PROXY_HOST and TG_PROXY_PORT together name an HTTP proxy; TG_PROXY_AUTH (or
    /// `user:password@` in front of the host, as the original allowed) adds Basic credentials.
    static func proxy(_ configuration: Configuration) throws(ConfigurationError) -> HTTPProxy? {
        let hostValue = configuration["TG_PROXY_HOST"]
        let portValue = configuration["TG_PROXY_PORT"]
        var credentials = configuration["TG_PROXY_AUTH"]
        guard hostValue != nil || portValue != nil || credentials != nil else { return nil }
        guard var host = hostValue, portValue != nil else {
            throw .missing([("TG_PROXY_HOST", hostValue), ("TG_PROXY_PORT", portValue)].filter { $0.1 == nil }.map(\.0))
        }
        if host.lowercased().hasPrefix("http://") { host.removeFirst("http://".count) }
        guard !host.contains("://") else {
            throw .invalid("TG_PROXY_HOST", "only HTTP proxies are supported: give the proxy's host name or IP, e.g. 127.0.0.1")
        }
        if let at = host.lastIndex(of: "@") {
            if credentials == nil { credentials = String(host[..<at]) }
            host = String(host[host.index(after: at)...])
        }
        host = host.trimmingSuffix("/")
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains("/"), host.count(where: { $0 == ":" }) != 1 else {
            throw .invalid("TG_PROXY_HOST", "give the proxy's host name or IP only; its port goes in TG_PROXY_PORT")
        }
        guard let port = try configuration.int("TG_PROXY_PORT", in: 1...65535) else { throw .missing(["TG_PROXY_PORT"]) }
        if let credentials, !credentials.contains(":") {
            throw .invalid("TG_PROXY_AUTH", "expected user:password")
        }
        return HTTPProxy(host: host, port: port, credentials: credentials)
    }

    public var secrets: [String] {
        var values = [token]
        if let credentials = proxy?.credentials {
            values.append(credentials)
            if let password = credentials.split(separator: ":", maxSplits: 1).last { values.append(String(password)) }
        }
        return values
    }

    public var summary: String {
        var text = "chat \(chatID) via bot \(Redactor.maskValue(token))"
        if apiBase != Self.descriptor.defaultBaseURL { text += " at \(apiBase)" }
        if let proxy { text += ", proxy \(proxy.host):\(proxy.port)\(proxy.credentials == nil ? "" : " with credentials")" }
        return text
    }

    /// One message to send: its text, and the same as plain text should Telegram refuse the HTML.
    struct Part: Equatable {
        var text: String
        var plain: String?
    }

    public func send(_ message: Message, context: DeliveryContext) async throws -> Delivery {
        let parts = Self.parts(of: message)
        // A run's message is edited in place when the new text fits one message; if it is gone, a new one is sent.
        if let replacing = message.replacing, let messageID = Int(replacing), parts.count == 1 {
            var delivery = try await send(parts[0], link: message.url, silent: message.silent, editing: messageID, context: context)
            let refusal = (delivery.error ?? "").lowercased()
            if delivery.ok || refusal.contains("message is not modified") {
                delivery = .delivered(status: delivery.statusCode ?? 200)
                delivery.messageID = replacing
                delivery.edited = true
                return delivery
            }
            guard Self.editTargetIsGone(refusal) else { return delivery }
            context.logger.info("the run's Telegram message is gone; sending a new one", metadata: ["error": "\(delivery.error ?? "")"])
        }
        var delivery = Delivery.delivered(status: nil)
        var firstID: String?
        for (index, part) in parts.enumerated() {
            let link = index == parts.count - 1 ? message.url : nil
            delivery = try await send(part, link: link, silent: message.silent, context: context)
            guard delivery.ok else {
                if parts.count > 1, let error = delivery.error { delivery.error = "part \(index + 1) of \(parts.count): \(error)" }
                return delivery
            }
            if index == 0 { firstID = delivery.messageID }
        }
        delivery.parts = parts.count
        // Only a message that is one part can be edited into what follows.
        delivery.messageID = parts.count == 1 ? firstID : nil
        return delivery
    }

    /// Telegram's answers when the message to edit no longer exists or may no longer be edited.
    static func editTargetIsGone(_ refusal: String) -> Bool {
        ["message to edit not found", "message can't be edited", "message_id_invalid"].contains { refusal.contains($0) }
    }

    /// The message as Telegram messages: text split after line breaks; Markdown as Telegram's HTML,
    /// split between blocks (a block too long for one message goes as escaped text in pieces, the
    /// first filling what the message before has left). Escaping can make the HTML longer than the
    /// text that was fitted: beyond `maximumParts` messages, the rest is cut.
    static func parts(of message: Message) -> [Part] {
        guard message.format == .markdown else { return descriptor.maximumLength!.split(message.text).map { Part(text: $0) } }
        // Room is kept for the mark of a cut at the end of any message.
        let marker = "\n" + Message.truncationMarker
        let limit = descriptor.maximumLength!.reserving(descriptor.maximumLength!.measure(marker))
        let blocks = [Markdown.Block.heading(level: 1, [.text(message.title)])] + Markdown.parse(message.body)
        var parts: [Part] = []
        var html = ""
        var plain = ""
        func flush() {
            if !html.isEmpty { parts.append(Part(text: html, plain: plain)) }
            (html, plain) = ("", "")
        }
        var previous: Markdown.Block?
        for (block, rendered) in zip(blocks, Markdown.telegramHTML(blocks)) {
            let separator = html.isEmpty ? "" : previous.map { Markdown.separator($0, block) } ?? ""
            previous = block
            if limit.measure(html + separator + rendered) <= limit.limit {
                html += separator + rendered
                plain += separator + Markdown.plainText([block])
                continue
            }
            if limit.measure(rendered) <= limit.limit {
                flush()
                (html, plain) = (rendered, Markdown.plainText([block]))
                continue
            }
            var (open, close) = ("", "")
            if case .code = block { (open, close) = ("<pre>", "</pre>") }
            var rest = Markdown.plainText([block])
            var joining = !html.isEmpty
            while !rest.isEmpty {
                let room = limit.limit - limit.measure(open + close) - (joining ? limit.measure(html + separator) : 0)
                guard room >= 64 else {
                    joining = false  // too little left to be worth a piece
                    continue
                }
                let piece = limit.resized(to: room).split(rest, measuredBy: { limit.measure(HTMLText.escaped($0)) })[0]
                rest.removeFirst(piece.count)
                if joining {
                    html += separator + open + HTMLText.escaped(piece) + close
                    plain += separator + piece
                } else {
                    flush()
                    (html, plain) = (open + HTMLText.escaped(piece) + close, piece)
                }
                joining = false
            }
        }
        flush()
        guard parts.count > descriptor.maximumParts else { return parts }
        parts.removeLast(parts.count - descriptor.maximumParts)
        parts[parts.count - 1].text += marker
        parts[parts.count - 1].plain? += marker
        return parts
    }

    /// Sends one part (or with `editing`, puts it in place of that message); the link goes on an
    /// inline button, or at the end of the text if Telegram refuses the button (it does for a local
    /// address). HTML Telegram refuses goes as plain text.
    private func send(_ part: Part, link: String?, silent: Bool, editing: Int? = nil, context: DeliveryContext) async throws -> Delivery {
        var body: [String: JSONValue] = ["chat_id": .string(chatID), "text": .string(part.text), "disable_web_page_preview": true]
        if part.plain != nil { body["parse_mode"] = "HTML" }
        if let editing { body["message_id"] = .int(editing) } else if silent { body["disable_notification"] = true }
        if let link { body["reply_markup"] = ["inline_keyboard": [[["text": "Open", "url": .string(link)]]]] }
        var delivery = try await post(body, context: context)
        let refusal = delivery.ok ? "" : (delivery.error ?? "").lowercased()
        if let link, refusal.contains("button") || refusal.contains("http url") {
            body["reply_markup"] = nil
            let linked = part.text + "\n\n" + (part.plain == nil ? link : HTMLText.escaped(link))
            guard Self.descriptor.maximumLength!.measure(linked) <= Self.descriptor.maximumLength!.limit else {
                delivery = try await post(body, context: context)
                guard delivery.ok else { return delivery }
                return try await post(["chat_id": .string(chatID), "text": .string(link), "disable_web_page_preview": true], context: context)
            }
            body["text"] = .string(linked)
            delivery = try await post(body, context: context)
        }
        if let plain = part.plain, !delivery.ok, (delivery.error ?? "").lowercased().contains("can't parse entities") {
            context.logger.warning("Telegram refused the HTML; sent as plain text", metadata: ["error": "\(delivery.error ?? "")"])
            body["parse_mode"] = nil
            body["text"] = .string(plain + (body["reply_markup"] == nil ? link.map { "\n\n" + $0 } ?? "" : ""))
            delivery = try await post(body, context: context)
        }
        return delivery
    }

    /// `sendMessage`, or `editMessageText` when the body names a message; the delivery carries the message's id.
    private func post(_ body: [String: JSONValue], context: DeliveryContext) async throws -> Delivery {
        let method = body["message_id"] == nil ? "sendMessage" : "editMessageText"
        let answer = try await context.perform(.json("\(apiBase)/bot\(token)/\(method)", .object(body)), proxy: proxy)
        var delivery = judge(answer)
        delivery.messageID = answer.json?["result"]?["message_id"]?.int.map(String.init)
        return delivery
    }

    private func judge(_ answer: HTTPAnswer) -> Delivery {
        answer.judge { json in
            if json["ok"]?.bool == true { return .accepted }
            guard let code = json["error_code"]?.int else { return .unexpected(answer) }
            let reason = json.reason(code: "error_code", message: "description")
            let description = json["description"]?.string?.lowercased() ?? ""
            switch code {
            case 429:
                let wait = json["parameters"]?["retry_after"]?.int.map { Duration.seconds($0) }
                return .rejected(reason, transient: true, retryAfter: wait)
            case 401, 404:
                return .rejected(reason + " (check TG_BOT_TOKEN)")
            case 400 where description.contains("chat not found"):
                return .rejected(reason + " (check TG_USER_ID, and that the user has sent /start to the bot)")
            case 403:
                return .rejected(reason + " (the user must send /start to the bot first and must not block it)")
            default:
                return .rejected(reason)
            }
        }
    }
}
