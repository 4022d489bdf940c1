import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct TelegramTests {
    static let token = "7351122334:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ks"
    static let chatID = "987654321"

    /// The Bot API's sendMessage: the token in the path, then the chat, then the text.
    static let service: FakeService.Handler = { request in
        guard request.method == "POST", request.path.hasSuffix("/sendMessage") else {
            return .raw(#"{"ok":false,"error_code":404,"description":"Not Found"}"#, status: 404)
        }
        guard request.path == "/bot\(token)/sendMessage" else {
            return .raw(#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#, status: 401)
        }
        guard request.contentType.hasPrefix("application/json"), let body = request.json,
            let text = body["text"]?.string, !text.isEmpty
        else {
            return .raw(#"{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}"#, status: 400)
        }
        guard body["chat_id"]?.string == chatID || body["chat_id"]?.int.map(String.init) == chatID else {
            return .raw(#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#, status: 400)
        }
        var shown = text
        if let mode = body["parse_mode"]?.string {
            guard mode == "HTML" else { return badRequest("unsupported parse_mode \(mode)") }
            switch parseHTML(text) {
            case .success(let visible): shown = visible
            case .failure(let problem): return badRequest("can't parse entities: \(problem.reason)")
            }
        }
        guard shown.utf16.count <= 4096 else { return badRequest("message is too long") }
        if let buttons = body["reply_markup"]?["inline_keyboard"]?.array {
            for button in buttons.flatMap({ $0.array ?? [] }) {
                guard let url = button["url"]?.string, let host = URL(string: url)?.host, button["text"]?.string?.isEmpty == false else {
                    return badRequest("BUTTON_URL_INVALID")
                }
                // Telegram refuses buttons to addresses only this machine can open.
                if host == "localhost" || host.hasPrefix("127.") || host.hasPrefix("192.168.") { return badRequest("BUTTON_URL_INVALID") }
            }
        }
        return .raw(
            #"{"ok":true,"result":{"message_id":4711,"from":{"id":7351122334,"is_bot":true,"first_name":"mcp-push","username":"mcp_push_bot"},"chat":{"id":987654321,"first_name":"Ada","type":"private"},"date":1732406400,"text":"Build finished"}}"#
        )
    }

    static func badRequest(_ description: String) -> FakeResponse {
        .raw(#"{"ok":false,"error_code":400,"description":"Bad Request: \#(description)"}"#, status: 400)
    }

    struct EntityProblem: Error {
        var reason: String
    }

    /// Reads `parse_mode` HTML as the Bot API does: only its tags, balanced; `<`, `>` and `&` otherwise
    /// only in entities (the four named ones or numeric). Returns the text as shown.
    static func parseHTML(_ html: String) -> Result<String, EntityProblem> {
        let allowed: Set<String> = ["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote", "tg-spoiler", "span"]
        let bytes = Array(html.utf8)
        var open: [String] = []
        var shown: [UInt8] = []
        var index = 0
        func fail(_ reason: String) -> Result<String, EntityProblem> { .failure(EntityProblem(reason: reason)) }
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "<"):
                guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ">")) else { return fail("Unclosed start tag at byte offset \(index)") }
                let inside = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
                if inside.hasPrefix("/") {
                    let name = String(inside.dropFirst()).lowercased()
                    guard open.last == name else { return fail("Unexpected end tag at byte offset \(index)") }
                    open.removeLast()
                } else {
                    let name = String(inside.prefix { $0 != " " }).lowercased()
                    guard allowed.contains(name) else { return fail("Unsupported start tag \"\(name)\" at byte offset \(index)") }
                    if name == "a", inside.range(of: #"^a href="[^"<>]+"$"#, options: .regularExpression) == nil {
                        return fail("Can't parse start tag \"a\" at byte offset \(index)")
                    }
                    open.append(name)
                }
                index = end + 1
            case UInt8(ascii: ">"):
                return fail("Character '>' is reserved and must be escaped at byte offset \(index)")
            case UInt8(ascii: "&"):
                guard let end = bytes[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                    return fail("Character entity expected at byte offset \(index)")
                }
                let entity = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
                let named = ["lt": "<", "gt": ">", "amp": "&", "quot": "\""]
                if let character = named[entity] {
                    shown += Array(character.utf8)
                } else if entity.hasPrefix("#"), let code = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(code) {
                    shown += Array(String(scalar).utf8)
                } else {
                    return fail("Unsupported HTML entity at byte offset \(index)")
                }
                index = end + 1
            default:
                shown.append(bytes[index])
                index += 1
            }
        }
        guard open.isEmpty else { return fail("Can't find end tag corresponding to start tag \"\(open.last!)\"") }
        return .success(String(decoding: shown, as: UTF8.self))
    }

    static func variables(_ fake: FakeService, _ extra: [String: String] = [:]) -> [String: String] {
        ["TG_BOT_TOKEN": token, "TG_USER_ID": chatID, "MCP_PUSH_TELEGRAM_BASE_URL": fake.baseURL].merging(extra) { $1 }
    }

    @Test func deliversPlainTextWithoutLinkPreview() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(Telegram.self, Self.variables(fake))
            #expect(try await deliver(channel) == .delivered(status: 200, messageID: "4711"))
            let body = try #require(fake.lastRequest?.json)
            #expect(body["text"]?.string == "Build finished\n\nAll 42 tests passed.\nSecond line & more")
            #expect(body["disable_web_page_preview"]?.bool == true)
            #expect(body["parse_mode"] == nil, "plain text: no entity parsing that could reject the message")
        }
    }

    @Test func wrongTokenIsUnauthorized() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(Telegram.self, Self.variables(fake, ["TG_BOT_TOKEN": "111:wrongwrongwrong"]))
            let delivery = try await deliver(channel)
            #expect(delivery.statusCode == 401)
            #expect(delivery.error == "HTTP 401: error_code 401: Unauthorized (check TG_BOT_TOKEN)")
        }
    }

    @Test func unknownChatIsReported() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(Telegram.self, Self.variables(fake, ["TG_USER_ID": "12345"]))
            let delivery = try await deliver(channel)
            #expect(delivery.error?.contains("error_code 400: Bad Request: chat not found (check TG_USER_ID") == true)
            #expect(!delivery.isTransient)
        }
    }

    @Test func blockedBotIsReported() async throws {
        let blocked = #"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#
        try await FakeService.with({ _ in .raw(blocked, status: 403) }) { fake in
            let channel = try makeChannel(Telegram.self, Self.variables(fake))
            let delivery = try await deliver(channel)
            #expect(delivery.error?.contains("error_code 403: Forbidden: bot was blocked by the user") == true)
            #expect(delivery.error?.contains("/start") == true)
        }
    }

    @Test func floodLimitIsTransientWithTheServiceWait() async throws {
        let flood = #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}"#
        try await FakeService.with({ _ in .raw(flood, status: 429) }) { fake in
            let channel = try makeChannel(Telegram.self, Self.variables(fake))
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.isTransient)
            #expect(delivery.retryAfter == .seconds(35))
            #expect(delivery.error?.contains("Too Many Requests: retry after 35") == true)
        }
    }

    @Test func apiHostWinsOverBaseURLAndMayOmitTheScheme() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(Telegram.self, Self.variables(fake, [
                "TG_API_HOST": fake.baseURL + "/", "MCP_PUSH_TELEGRAM_BASE_URL": "http://127.0.0.1:9",
            ]))
            #expect(try await deliver(channel).ok)
        }
        let bare = try makeChannel(Telegram.self, ["TG_BOT_TOKEN": Self.token, "TG_USER_ID": Self.chatID, "TG_API_HOST": "tg.example.com"])
        #expect(bare.apiBase == "https://tg.example.com")
        let plain = try makeChannel(Telegram.self, ["TG_BOT_TOKEN": Self.token, "TG_USER_ID": Self.chatID])
        #expect(plain.apiBase == "https://api.telegram.org")
        #expect(plain.proxy == nil)
    }

    @Test func partialConfigurationNamesWhatIsMissing() {
        #expect(throws: ConfigurationError.missing(["TG_USER_ID"])) {
            try Telegram(configuration: Configuration(["TG_BOT_TOKEN": Self.token]))
        }
        #expect(throws: ConfigurationError.missing(["TG_BOT_TOKEN", "TG_USER_ID"])) {
            try Telegram(configuration: Configuration(["TG_PROXY_HOST": "127.0.0.1"]))
        }
        #expect(throws: ConfigurationError.self) {
            try Telegram(configuration: Configuration(["TG_BOT_TOKEN": "https://api.telegram.org/bot123:abc", "TG_USER_ID": "1"]))
        }
    }

    @Test func proxyVariablesBuildTheProxy() throws {
        let base = ["TG_BOT_TOKEN": Self.token, "TG_USER_ID": Self.chatID]
        let full = try makeChannel(Telegram.self, base.merging([
            "TG_PROXY_HOST": "10.0.0.2", "TG_PROXY_PORT": "3128", "TG_PROXY_AUTH": "alice:s3cr3t-pass",
        ]) { $1 })
        #expect(full.proxy == HTTPProxy(host: "10.0.0.2", port: 3128, credentials: "alice:s3cr3t-pass"))
        #expect(full.secrets.contains("alice:s3cr3t-pass"))
        #expect(full.secrets.contains("s3cr3t-pass"))
        #expect(!full.summary.contains("s3cr3t"))

        // The original also accepted credentials in front of the host, and an http:// prefix.
        let inline = try makeChannel(Telegram.self, base.merging([
            "TG_PROXY_HOST": "http://bob:pw12@proxy.lan", "TG_PROXY_PORT": "8080",
        ]) { $1 })
        #expect(inline.proxy == HTTPProxy(host: "proxy.lan", port: 8080, credentials: "bob:pw12"))

        let anonymous = try makeChannel(Telegram.self, base.merging(["TG_PROXY_HOST": "proxy.lan", "TG_PROXY_PORT": "8080"]) { $1 })
        #expect(anonymous.proxy == HTTPProxy(host: "proxy.lan", port: 8080, credentials: nil))
    }

    @Test func badProxyVariablesAreReported() {
        let base = ["TG_BOT_TOKEN": Self.token, "TG_USER_ID": Self.chatID]
        #expect(throws: ConfigurationError.invalid("TG_PROXY_PORT", "expected a whole number, got \"http\"")) {
            try Telegram(configuration: Configuration(base.merging(["TG_PROXY_HOST": "proxy.lan", "TG_PROXY_PORT": "http"]) { $1 }))
        }
        #expect(throws: ConfigurationError.missing(["TG_PROXY_PORT"])) {
            try Telegram(configuration: Configuration(base.merging(["TG_PROXY_HOST": "proxy.lan"]) { $1 }))
        }
        #expect(throws: ConfigurationError.missing(["TG_PROXY_HOST", "TG_PROXY_PORT"])) {
            try Telegram(configuration: Configuration(base.merging(["TG_PROXY_AUTH": "a:b"]) { $1 }))
        }
        #expect(throws: ConfigurationError.self) {
            try Telegram(configuration: Configuration(base.merging(["TG_PROXY_HOST": "socks5://proxy.lan", "TG_PROXY_PORT": "1080"]) { $1 }))
        }
        #expect(throws: ConfigurationError.self) {
            try Telegram(configuration: Configuration(base.merging(["TG_PROXY_HOST": "proxy.lan:3128", "TG_PROXY_PORT": "3128"]) { $1 }))
        }
    }

    /// The HTTP client tunnels through the proxy with CONNECT (also for http:// targets), so a
    /// fake proxy sees `CONNECT host:port` and the Proxy-Authorization header. It refuses to
    /// tunnel, which ends the attempt, and the test checks what reached it. The target is an
    /// IP address: Hummingbird would read `name:` in `CONNECT name:port` as a URI scheme.
    @Test func requestsGoThroughTheProxyWithItsCredentials() async throws {
        let proxy: FakeService.Handler = { request in
            guard request.method == "CONNECT" else { return .text("not a proxy request", status: 400) }
            let expected = "Basic " + Data("alice:s3cr3t-pass".utf8).base64EncodedString()
            guard request.headers["proxy-authorization"] == expected else {
                return FakeResponse(status: 407, headers: [("Proxy-Authenticate", "Basic realm=\"proxy\"")], body: "")
            }
            return .text("fake proxy: tunnel refused", status: 403)
        }
        try await FakeService.with(proxy) { fake in
            let port = try #require(URL(string: fake.baseURL)?.port)
            let channel = try makeChannel(Telegram.self, [
                "TG_BOT_TOKEN": Self.token, "TG_USER_ID": Self.chatID, "TG_API_HOST": "http://203.0.113.9:8081",
                "TG_PROXY_HOST": "127.0.0.1", "TG_PROXY_PORT": String(port), "TG_PROXY_AUTH": "alice:s3cr3t-pass",
            ])
            await #expect(throws: TransportError.self) { try await deliver(channel) }
            let connect = try #require(fake.lastRequest)
            #expect(connect.method == "CONNECT")
            #expect(connect.path == "203.0.113.9:8081")
            #expect(connect.headers["proxy-authorization"] == "Basic " + Data("alice:s3cr3t-pass".utf8).base64EncodedString())
        }
    }
}
