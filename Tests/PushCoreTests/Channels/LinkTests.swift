import Foundation
@testable import PushCore
import Synchronization
import TestSupport
import Testing

/// A message's link (an answer page, a report): in the service's own field where it has one,
/// at the end of the text elsewhere, and never the part that is cut.
@Suite struct LinkTests {
    static let link = "https://mcp-push.example.net/approve/AbCdEfGhIjKlMnOpQrStUv"
    static let message = Message(title: "Deploy?", body: "Production, 3 services", url: link)

    func send<C: Channel>(_ channel: C, _ message: Message = LinkTests.message) async throws -> Delivery {
        try await withContext { try await channel.send(message.prepared(for: C.descriptor), context: $0) }
    }

    @Test func aChannelWithoutALinkFieldGetsItAtTheEndOfTheText() {
        let prepared = Self.message.prepared(for: WeComBot.descriptor)
        #expect(prepared.body == "Production, 3 services\n\n\(Self.link)" && prepared.url == nil)
        #expect(Message(title: "Deploy?", body: "", url: Self.link).prepared(for: WeComBot.descriptor).text == "Deploy?\n\n\(Self.link)")
        let kept = Self.message.prepared(for: Bark.descriptor)
        #expect(kept == Self.message)
    }

    @Test func theLinkIsNeverWhatIsCut() {
        let long = Message(title: "Report", body: String(repeating: "é👍", count: 8000), url: Self.link)
        let wecom = long.prepared(for: WeComBot.descriptor)
        #expect(wecom.text.utf8.count <= 2048)
        #expect(wecom.body.hasSuffix(Message.truncationMarker + "\n\n" + Self.link))
        let bark = long.prepared(for: Bark.descriptor)
        #expect(bark.url == Self.link && !bark.body.contains(Self.link) && bark.text.utf8.count <= 3000)
    }

    @Test func barkOpensTheMessagesLinkOverBarkURL() async throws {
        try await FakeService.with(BarkTests.service) { fake in
            let bark = try makeChannel(Bark.self, ["BARK_PUSH": BarkTests.key, "MCP_PUSH_BARK_BASE_URL": fake.baseURL, "BARK_URL": "https://example.com/default"])
            #expect(try await send(bark).ok)
            #expect(fake.lastRequest?.json?["url"]?.string == Self.link)
            #expect(fake.lastRequest?.json?["body"]?.string == "Production, 3 services")
        }
    }

    @Test func dingTalkSendsALinkCard() async throws {
        try await FakeService.with(DingTalkTests.service(signed: true)) { fake in
            let channel = try makeChannel(DingTalk.self, [
                "DD_BOT_TOKEN": DingTalkTests.token, "DD_BOT_SECRET": DingTalkTests.secret, "MCP_PUSH_DINGTALK_BASE_URL": fake.baseURL,
            ])
            #expect(try await send(channel) == .delivered(status: 200))
            let body = try #require(fake.lastRequest?.json)
            #expect(body["msgtype"]?.string == "link")
            #expect(body["link"]?["title"]?.string == "Deploy?" && body["link"]?["text"]?.string == "Production, 3 services")
            #expect(body["link"]?["messageUrl"]?.string == Self.link)
        }
    }

    @Test func feishuSendsACardWithAButton() async throws {
        try await FakeService.with(FeishuTests.service(signed: false)) { fake in
            let channel = try makeChannel(Feishu.self, ["FSKEY": FeishuTests.hookID, "MCP_PUSH_FEISHU_BASE_URL": fake.baseURL])
            let text = "**not bold** <at user_id=\"all\"></at>"
            #expect(try await send(channel, Message(title: "Deploy?", body: text, url: Self.link)).ok)
            let card = try #require(fake.lastRequest?.json?["card"])
            #expect(fake.lastRequest?.json?["msg_type"]?.string == "interactive")
            #expect(card["header"]?["title"]?["content"]?.string == "Deploy?")
            // Plain text, never Markdown: what the user wrote is shown as written.
            #expect(card["elements"]?[0]?["text"]?["tag"]?.string == "plain_text")
            #expect(card["elements"]?[0]?["text"]?["content"]?.string == text)
            #expect(card["elements"]?[1]?["actions"]?[0]?["url"]?.string == Self.link)
        }
    }

    @Test func ntfyAndGotifyOpenTheLinkWhenTapped() async throws {
        try await FakeService.with(NtfyTests.service()) { fake in
            let ntfy = try makeChannel(Ntfy.self, ["NTFY_TOPIC": NtfyTests.topic, "NTFY_URL": fake.baseURL])
            #expect(try await send(ntfy).ok)
            #expect(fake.lastRequest?.json?["click"]?.string == Self.link)
            #expect(fake.lastRequest?.json?["message"]?.string == "Production, 3 services")
        }
        try await FakeService.with(GotifyTests.service()) { fake in
            let gotify = try makeChannel(Gotify.self, ["GOTIFY_URL": fake.baseURL, "GOTIFY_TOKEN": GotifyTests.token])
            #expect(try await send(gotify).ok)
            #expect(fake.lastRequest?.json?["extras"]?["client::notification"]?["click"]?["url"]?.string == Self.link)
        }
    }

    @Test func aBadLinkIsRefusedNamingTheField() async throws {
        let notifier = try Notifier(configuration: Configuration([:]))
        for url in ["javascript:alert(1)", "ftp://x.example/y", "https://", "https://a.example/\nb", String(repeating: "https://a.example/", count: 200)] {
            await #expect(throws: InputError.self) { try await notifier.send(title: "t", content: "c", url: url) }
        }
        await notifier.shutdown()
    }

    @Test func aQueuedMessageKeepsItsLinkAndLevel() async throws {
        let directory = try OutboxTests.temporaryDirectory()
        let urls = Mutex<[String?]>([])
        let levels = Mutex<[String?]>([])
        let up = Mutex(false)
        let handler: FakeService.Handler = { request in
            guard up.withLock({ $0 }) else { return .raw("<html>503</html>", status: 503, contentType: "text/html") }
            urls.withLock { $0.append(request.json?["url"]?.string) }
            levels.withLock { $0.append(request.json?["level"]?.string) }
            return .raw(OutboxTests.barkSuccess)
        }
        try await FakeService.with(handler) { fake in
            let variables = [
                "BARK_PUSH": OutboxTests.barkKey, "MCP_PUSH_BARK_BASE_URL": fake.baseURL, "MCP_PUSH_TIMEOUT": "1", "MCP_PUSH_DEADLINE": "1.5",
                "MCP_PUSH_RETRIES": "1",
            ]
            let first = try Notifier(configuration: Configuration(variables), store: .directory(directory))
            #expect(try await first.send(title: "Deploy?", content: "Production", url: Self.link, level: .critical).status == .queued)
            await first.shutdown()
            up.withLock { $0 = true }
            let second = try Notifier(configuration: Configuration(variables), store: .directory(directory))
            #expect(try await second.flushOutbox().delivered == 1)
            await second.shutdown()
            #expect(urls.withLock { $0 } == [Self.link])
            #expect(levels.withLock { $0 } == ["critical"])
        }
    }
}
