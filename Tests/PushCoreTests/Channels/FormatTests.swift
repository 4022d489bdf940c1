import Foundation
import Synchronization
@testable import PushCore
import TestSupport
import Testing

/// `format`: a Markdown body each service shows its own way (or as clean plain text), and a text
/// body never read as markup, even by services that always render Markdown.
@Suite struct FormatTests {
    static let markdown = "Deployed **v2.1** to `prod` & <staging>; see [the log](https://ci.example/42?a=1&b=2).\n\n- snake_case_name 中文\n- 2 * 3 < 7"
    static let message = Message(title: "Deploy <ok> & *done*", body: markdown, format: .markdown)
    static let text = Message(title: "Deploy", body: "**not bold** _not italic_ <b>x</b> [a](b) 1. # & 中文")

    func send<C: Channel>(_ channel: C, _ message: Message = FormatTests.message) async throws -> Delivery {
        try await withContext { try await channel.send(message.prepared(for: C.descriptor), context: $0) }
    }

    @Test func aServiceThatRendersNothingGetsCleanPlainText() async throws {
        try await FakeService.with(BarkTests.service) { fake in
            let bark = try makeChannel(Bark.self, ["BARK_PUSH": BarkTests.key, "MCP_PUSH_BARK_BASE_URL": fake.baseURL])
            #expect(try await send(bark).ok)
            #expect(fake.lastRequest?.json?["body"]?.string
                == "Deployed v2.1 to prod & <staging>; see the log (https://ci.example/42?a=1&b=2).\n\n• snake_case_name 中文\n• 2 * 3 < 7")
            #expect(fake.lastRequest?.json?["title"]?.string == Self.message.title, "a title is text")
            #expect(try await send(bark, Self.text).ok)
            #expect(fake.lastRequest?.json?["body"]?.string == Self.text.body)
        }
    }

    @Test func telegramGetsItsHTMLEscapedAndTheTitleInBold() async throws {
        try await FakeService.with(TelegramTests.service) { fake in
            let channel = try makeChannel(Telegram.self, TelegramTests.variables(fake))
            #expect(try await send(channel) == .delivered(status: 200, messageID: "4711"))
            let body = try #require(fake.lastRequest?.json)
            #expect(body["parse_mode"]?.string == "HTML")
            #expect(body["text"]?.string == """
                <b>Deploy &lt;ok&gt; &amp; *done*</b>

                Deployed <b>v2.1</b> to <code>prod</code> &amp; &lt;staging&gt;; see <a href="https://ci.example/42?a=1&amp;b=2">the log</a>.

                • snake_case_name 中文
                • 2 * 3 &lt; 7
                """)
            // Text stays text: no parse mode, so nothing in it is read as a tag or an entity.
            #expect(try await send(channel, Self.text).ok)
            #expect(fake.lastRequest?.json?["parse_mode"] == nil)
            #expect(fake.lastRequest?.json?["text"]?.string == "Deploy\n\n" + Self.text.body)
        }
    }

    @Test func aLongTelegramMarkdownMessageIsSplitBetweenBlocksEachAccepted() async throws {
        let paragraphs = (1...80).map { "Paragraph \($0): **bold** & <tag> " + String(repeating: "词", count: 150) }
        let body = paragraphs.joined(separator: "\n\n")
        #expect(body.count > 10_000)
        let parts = Telegram.parts(of: Message(title: "Report", body: body, format: .markdown))
        #expect(parts.count == 4)
        for part in parts {
            let shown = try TelegramTests.parseHTML(part.text).get()
            #expect(shown.utf16.count <= 4096)
            #expect(!shown.contains("**"))
        }
        let shown = try parts.map { try TelegramTests.parseHTML($0.text).get() }.joined(separator: "\n\n")
        #expect(shown == "Report\n\n" + Markdown.plainText(body))
        // One block longer than a message (a code block): pieces, each in its own <pre>, the first after the
        // title, none cut inside an escape.
        let code = "```\n" + String(repeating: "a < b && c > d;\n", count: 500) + "```"
        let pieces = Telegram.parts(of: Message(title: "Log", body: code, format: .markdown))
        #expect(pieces.count > 2)
        #expect(pieces[0].text.hasPrefix("<b>Log</b>\n\n<pre>a &lt; b"))
        for piece in pieces {
            #expect(piece.text.hasSuffix("</pre>"))
            #expect(piece.text.utf16.count <= 4096)
            _ = try TelegramTests.parseHTML(piece.text).get()
        }
        // Escaping makes the HTML four times the text: what is beyond four messages is cut, and says so.
        let escapes = "```\n" + String(repeating: "<&>\n", count: 4000) + "```"
        let capped = Telegram.parts(of: Message(title: "Log", body: escapes, format: .markdown))
        #expect(capped.count == 4)
        #expect(capped[3].text.hasSuffix("</pre>\n" + Message.truncationMarker))
        try await FakeService.with(TelegramTests.service) { fake in
            let channel = try makeChannel(Telegram.self, TelegramTests.variables(fake))
            let delivery = try await send(channel, Message(title: "Report", body: body, format: .markdown))
            #expect(delivery.ok && delivery.parts == 4, "\(delivery)")
            #expect(fake.requests.count == 4)
        }
    }

    @Test func telegramOpensTheLinkFromAButtonOrTheTextWhenTheButtonIsRefused() async throws {
        try await FakeService.with(TelegramTests.service) { fake in
            let channel = try makeChannel(Telegram.self, TelegramTests.variables(fake))
            let public_ = Message(title: "Deploy?", body: "Production", url: "https://ci.example/42")
            #expect(try await send(channel, public_).ok)
            let body = try #require(fake.lastRequest?.json)
            #expect(body["text"]?.string == "Deploy?\n\nProduction")
            #expect(body["reply_markup"]?["inline_keyboard"]?[0]?[0]?["url"]?.string == "https://ci.example/42")
            // Telegram refuses a button to a local address: the link ends the text instead, still delivered.
            let local = Message(title: "Approve?", body: "**rm** build/", url: "http://192.168.1.5:8787/approve/x?a=1&b=2", format: .markdown)
            #expect(try await send(channel, local).ok)
            let retried = try #require(fake.lastRequest?.json)
            #expect(retried["reply_markup"] == nil)
            #expect(retried["text"]?.string == "<b>Approve?</b>\n\n<b>rm</b> build/\n\nhttp://192.168.1.5:8787/approve/x?a=1&amp;b=2")
            // Three messages in all: the first, then the refused button and its fallback. (Distinct bodies: on a
            // loaded machine the HTTP client may send a request again on a fresh connection when the kept-alive
            // one was closed under it.)
            #expect(Set(fake.requests.map(\.body)).count == 3)
        }
    }

    @Test func htmlTelegramRefusesGoesAsPlainText() async throws {
        // A server stricter than the Bot API: it refuses every <b>. The message still arrives, as plain text.
        let strict: FakeService.Handler = { request in
            if request.json?["text"]?.string?.contains("<b>") == true, request.json?["parse_mode"] != nil {
                return TelegramTests.badRequest("can't parse entities: Unsupported start tag \"b\" at byte offset 0")
            }
            return try await TelegramTests.service(request)
        }
        try await FakeService.with(strict) { fake in
            let channel = try makeChannel(Telegram.self, TelegramTests.variables(fake))
            #expect(try await send(channel) == .delivered(status: 200, messageID: "4711"))
            let body = try #require(fake.lastRequest?.json)
            #expect(body["parse_mode"] == nil)
            #expect(body["text"]?.string?.hasPrefix("Deploy <ok> & *done*\n\nDeployed v2.1 to prod & <staging>") == true)
        }
    }

    @Test func ntfyAndGotifyAreToldTheBodyIsMarkdown() async throws {
        try await FakeService.with(NtfyTests.service()) { fake in
            let ntfy = try makeChannel(Ntfy.self, ["NTFY_TOPIC": NtfyTests.topic, "NTFY_URL": fake.baseURL])
            #expect(try await send(ntfy).ok)
            #expect(fake.lastRequest?.json?["markdown"]?.bool == true)
            #expect(fake.lastRequest?.json?["message"]?.string == Self.markdown)
            #expect(try await send(ntfy, Self.text).ok)
            #expect(fake.lastRequest?.json?["markdown"] == nil)
        }
        try await FakeService.with(GotifyTests.service()) { fake in
            let gotify = try makeChannel(Gotify.self, ["GOTIFY_URL": fake.baseURL, "GOTIFY_TOKEN": GotifyTests.token])
            var linked = Self.message
            linked.url = "https://ci.example/42"
            #expect(try await send(gotify, linked).ok)
            let extras = try #require(fake.lastRequest?.json?["extras"])
            #expect(extras["client::display"]?["contentType"]?.string == "text/markdown")
            #expect(extras["client::notification"]?["click"]?["url"]?.string == "https://ci.example/42")
            #expect(try await send(gotify, Self.text).ok)
            #expect(fake.lastRequest?.json?["extras"] == nil)
        }
    }

    @Test func dingTalkSendsMarkdownOrAnActionCardWithTheTitleEscaped() async throws {
        try await FakeService.with(DingTalkTests.service(signed: false)) { fake in
            let channel = try makeChannel(DingTalk.self, ["DD_BOT_TOKEN": DingTalkTests.token, "MCP_PUSH_DINGTALK_BASE_URL": fake.baseURL])
            #expect(try await send(channel).ok)
            let body = try #require(fake.lastRequest?.json)
            #expect(body["msgtype"]?.string == "markdown")
            #expect(body["markdown"]?["title"]?.string == Self.message.title)
            #expect(body["markdown"]?["text"]?.string == #"**Deploy \<ok> & \*done\***"# + "\n\n" + Self.markdown)
            var linked = Self.message
            linked.url = "https://ci.example/42"
            #expect(try await send(channel, linked).ok)
            let card = try #require(fake.lastRequest?.json?["actionCard"])
            #expect(fake.lastRequest?.json?["msgtype"]?.string == "actionCard")
            #expect(card["singleURL"]?.string == "https://ci.example/42" && card["singleTitle"]?.string == "Open")
            #expect(try await send(channel, Self.text).ok)
            #expect(fake.lastRequest?.json?["msgtype"]?.string == "text")
        }
    }

    @Test func feishuShowsMarkdownInACard() async throws {
        try await FakeService.with(FeishuTests.service(signed: false)) { fake in
            let channel = try makeChannel(Feishu.self, ["FSKEY": FeishuTests.hookID, "MCP_PUSH_FEISHU_BASE_URL": fake.baseURL])
            #expect(try await send(channel).ok)
            let body = try #require(fake.lastRequest?.json)
            #expect(body["msg_type"]?.string == "interactive")
            #expect(body["card"]?["header"]?["title"]?["content"]?.string == Self.message.title)
            #expect(body["card"]?["elements"]?[0]?["tag"]?.string == "markdown")
            #expect(body["card"]?["elements"]?[0]?["content"]?.string == Self.markdown)
            #expect(try await send(channel, Self.text).ok)
            #expect(fake.lastRequest?.json?["msg_type"]?.string == "text")
        }
    }

    @Test func weComBotAndWxPusherUseTheirMarkdownTypes() async throws {
        try await FakeService.with(WeComBotTests.service) { fake in
            let channel = try makeChannel(WeComBot.self, ["QYWX_KEY": WeComBotTests.key, "MCP_PUSH_WECOM_BOT_BASE_URL": fake.baseURL])
            #expect(try await send(channel).ok)
            #expect(fake.lastRequest?.json?["msgtype"]?.string == "markdown")
            #expect(fake.lastRequest?.json?["markdown"]?["content"]?.string == Self.message.markdownText)
        }
        try await FakeService.with(WxPusherTests.service) { fake in
            let channel = try makeChannel(WxPusher.self, WxPusherTests().variables(fake, ["WXPUSHER_TOPIC_IDS": "123"]))
            #expect(try await send(channel).ok)
            #expect(fake.lastRequest?.json?["contentType"]?.int == 3)
            #expect(fake.lastRequest?.json?["content"]?.string == Self.message.markdownText)
            #expect(try await send(channel, Self.text).ok)
            #expect(fake.lastRequest?.json?["contentType"]?.int == 1)
        }
    }

    @Test func serverChanAndPushDeerAlwaysRenderMarkdownSoTextIsEscaped() async throws {
        try await FakeService.with(ServerChanTests.service) { fake in
            let channel = try makeChannel(ServerChan.self, ["PUSH_KEY": ServerChanTests.turboKey, "MCP_PUSH_SERVERCHAN_BASE_URL": fake.baseURL])
            #expect(try await send(channel, Self.text).ok)
            let desp = try #require(fake.lastRequest?.form["desp"])
            #expect(desp == Markdown.escaped(Self.text.body))
            #expect(Markdown.plainText(desp) == Self.text.body, "a Markdown renderer shows the text as written")
            #expect(try await send(channel).ok)
            #expect(fake.lastRequest?.form["desp"] == Self.markdown)
        }
        try await FakeService.with(PushDeerTests.service()) { fake in
            let channel = try makeChannel(PushDeer.self, ["DEER_KEY": PushDeerTests.key, "MCP_PUSH_PUSHDEER_BASE_URL": fake.baseURL])
            #expect(try await send(channel, Self.text).ok)
            #expect(fake.lastRequest?.form["desp"] == Markdown.escaped(Self.text.body))
            #expect(try await send(channel).ok)
            #expect(fake.lastRequest?.form["desp"] == Self.markdown && fake.lastRequest?.form["type"] == "markdown")
        }
    }

    @Test func pushPlusUsesItsMarkdownTemplate() async throws {
        try await FakeService.with(PushPlusTests.service) { fake in
            let channel = try makeChannel(PushPlus.self, ["PUSH_PLUS_TOKEN": PushPlusTests.token, "PUSH_PLUS_TEMPLATE": "html", "MCP_PUSH_PUSHPLUS_BASE_URL": fake.baseURL])
            #expect(try await send(channel).ok)
            #expect(fake.lastRequest?.json?["template"]?.string == "markdown")
            #expect(fake.lastRequest?.json?["content"]?.string == Self.markdown)
            #expect(try await send(channel, Self.text).ok)
            #expect(fake.lastRequest?.json?["template"]?.string == "html")
        }
    }

    @Test func weComAppSendsMarkdownAndACardOfPlainText() throws {
        let channel = try makeChannel(WeComApp.self, ["QYWX_AM": WeComAppTests.amValue])
        let markdown = channel.payload(Self.message)
        #expect(markdown["msgtype"]?.string == "markdown")
        #expect(markdown["markdown"]?["content"]?.string == Self.message.markdownText)
        var linked = Self.message
        linked.url = "https://ci.example/42"
        let card = channel.payload(linked)
        #expect(card["msgtype"]?.string == "textcard")
        #expect(card["textcard"]?["description"]?.string?.hasPrefix("Deployed v2.1 to prod &amp; &lt;staging&gt;") == true)
    }

    @Test func aQueuedMarkdownMessageIsStillMarkdownWhenAnotherProcessSendsIt() async throws {
        let directory = try OutboxTests.temporaryDirectory()
        let calls = Mutex(0)
        let ntfy = NtfyTests.service()
        try await FakeService.with({ request in
            // Down for the first call, then up.
            if calls.withLock({ $0 += 1; return $0 }) == 1 { return .raw(#"{"code":50301,"http":503,"error":"service unavailable"}"#, status: 503) }
            return try await ntfy(request)
        }) { fake in
            let variables = ["NTFY_TOPIC": NtfyTests.topic, "NTFY_URL": fake.baseURL, "MCP_PUSH_RETRIES": "0"]
            let first = try Notifier(configuration: Configuration(variables), store: .directory(directory))
            let queued = try await first.send(title: "Report", content: Self.markdown, format: .markdown)
            #expect(queued.status == .queued, "\(queued)")
            await first.shutdown()
            let second = try Notifier(configuration: Configuration(variables), store: .directory(directory))
            var delivered = 0
            for _ in 0..<40 where delivered == 0 {
                delivered = await second.workOutbox().delivered
                if delivered == 0 { try await Task.sleep(for: .milliseconds(250)) }
            }
            await second.shutdown()
            #expect(delivered == 1)
            #expect(fake.lastRequest?.json?["markdown"]?.bool == true)
            #expect(fake.lastRequest?.json?["message"]?.string == Self.markdown)
        }
    }
}
