import Foundation
@testable import PushCore
import TestSupport
import Synchronization
import Testing

/// WeCom's application API: gettoken hands out tokens (and counts the calls), message/send
/// accepts only tokens it handed out and has not expired or revoked.
final class WeComAppService: Sendable {
    static let corpID = "ww3f9a2b1c0d4e5f60"
    static let corpSecret = "Xk7pQ2mN9vB4cR8tY1wZ5aD3fG6hJ0lS"
    static let agentID = 1000002
    static let members: Set<String> = ["ada", "grace"]

    private struct State {
        var gettokenCalls = 0
        var issued: [String] = []
        var expired: Set<String> = []
        var revoked: Set<String> = []
        /// Every new token is already expired: a service that keeps refusing.
        var refuseEveryToken = false
    }

    private let state = Mutex(State())

    var gettokenCalls: Int { state.withLock { $0.gettokenCalls } }
    var issued: [String] { state.withLock { $0.issued } }
    func expireAll() { state.withLock { $0.expired.formUnion($0.issued) } }
    func revokeAll() { state.withLock { $0.revoked.formUnion($0.issued) } }
    func refuseEveryToken() { state.withLock { $0.refuseEveryToken = true } }

    static func hint(_ code: Int) -> String {
        "hint: [1732406400\(code)_88_5d1c], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=\(code)"
    }

    var handler: FakeService.Handler {
        { [self] request in
            switch (request.method, request.path) {
            case ("GET", "/cgi-bin/gettoken"):
                guard request.query["corpid"] == Self.corpID else {
                    return .raw(#"{"errcode":40013,"errmsg":"invalid corpid, \#(Self.hint(40013))"}"#)
                }
                guard request.query["corpsecret"] == Self.corpSecret else {
                    return .raw(#"{"errcode":40001,"errmsg":"invalid credential, \#(Self.hint(40001))"}"#)
                }
                let token = state.withLock { state in
                    state.gettokenCalls += 1
                    let token = "accesstoken\(state.gettokenCalls)_" + String(repeating: "Qx", count: 40)
                    state.issued.append(token)
                    if state.refuseEveryToken { state.expired.insert(token) }
                    return token
                }
                return .raw(#"{"errcode":0,"errmsg":"ok","access_token":"\#(token)","expires_in":7200}"#)
            case ("POST", "/cgi-bin/message/send"):
                let token = request.query["access_token"] ?? ""
                let (known, expired, revoked) = state.withLock { ($0.issued.contains(token), $0.expired.contains(token), $0.revoked.contains(token)) }
                guard known, !revoked else {
                    return .raw(#"{"errcode":40014,"errmsg":"invalid access_token, \#(Self.hint(40014))"}"#)
                }
                guard !expired else {
                    return .raw(#"{"errcode":42001,"errmsg":"access_token expired, \#(Self.hint(42001))"}"#)
                }
                guard let body = request.json, body["agentid"]?.int == Self.agentID, body["safe"]?.int == 0,
                    let touser = body["touser"]?.string, let type = body["msgtype"]?.string
                else {
                    return .raw(#"{"errcode":40056,"errmsg":"invalid agentid, \#(Self.hint(40056))"}"#)
                }
                switch type {
                case "text" where !(body["text"]?["content"]?.string ?? "").isEmpty: break
                case "mpnews" where body["mpnews"]?["articles"]?[0]?["thumb_media_id"]?.string == "2-G6nrLmr5EC3MMb_-zK1dDdzmd0p7cNliYu9V5w7o8K0":
                    break
                case "mpnews":
                    return .raw(#"{"errcode":40007,"errmsg":"invalid media_id, \#(Self.hint(40007))"}"#)
                case "textcard":
                    // Title at most 128 bytes, description at most 512, and a URL to open.
                    guard let card = body["textcard"], let title = card["title"]?.string, !title.isEmpty, title.utf8.count <= 128,
                        let description = card["description"]?.string, !description.isEmpty, description.utf8.count <= 512,
                        card["url"]?.string?.hasPrefix("http") == true
                    else {
                        return .raw(#"{"errcode":44004,"errmsg":"empty content or content size out of limit, \#(Self.hint(44004))"}"#)
                    }
                default:
                    return .raw(#"{"errcode":40008,"errmsg":"invalid message type, \#(Self.hint(40008))"}"#)
                }
                let users = touser == "@all" ? [] : touser.split(separator: "|").map(String.init)
                let unknown = users.filter { !Self.members.contains($0) }
                if !users.isEmpty, unknown.count == users.count {
                    return .raw(#"{"errcode":81013,"errmsg":"user & party & tag all invalid, \#(Self.hint(81013))"}"#)
                }
                let invalid = unknown.joined(separator: "|")
                return .raw(
                    #"{"errcode":0,"errmsg":"ok","invaliduser":"\#(invalid)","invalidparty":"","invalidtag":"","unlicenseduser":"","msgid":"xPKCssHbZWFs5bPd0qYAWg","response_code":"dqoXIbNfF5l7AQoGn-iUOn7WjzhOWhTwKlTT8wnORnc"}"#
                )
            default:
                return .raw(#"{"errcode":404,"errmsg":"not found"}"#, status: 404)
            }
        }
    }
}

@Suite struct WeComAppTests {
    static let amValue = "\(WeComAppService.corpID),\(WeComAppService.corpSecret),ada|grace,\(WeComAppService.agentID)"

    static func channel(_ fake: FakeService, am: String = amValue, _ extra: [String: String] = [:]) throws -> WeComApp {
        try makeChannel(WeComApp.self, ["QYWX_AM": am, "QYWX_ORIGIN": fake.baseURL].merging(extra) { $1 })
    }

    static func sends(_ fake: FakeService) -> [RecordedRequest] { fake.requests.filter { $0.path == "/cgi-bin/message/send" } }

    @Test func tokenIsFetchedOnceForTwoSends() async throws {
        let service = WeComAppService()
        try await FakeService.with(service.handler) { fake in
            let channel = try Self.channel(fake)
            try await withContext { context in
                let first = try await channel.send(Message(title: "one", body: "first"), context: context)
                let second = try await channel.send(Message(title: "two", body: "second"), context: context)
                #expect(first == .delivered(status: 200))
                #expect(second == .delivered(status: 200))
            }
            #expect(service.gettokenCalls == 1)
            let sends = Self.sends(fake)
            #expect(sends.count == 2)
            #expect(Set(sends.map { $0.query["access_token"] }) == [service.issued.first])
            let body = try #require(sends.last?.json)
            #expect(body["msgtype"]?.string == "text")
            #expect(body["touser"]?.string == "ada|grace")
            #expect(body["text"]?["content"]?.string == "two\n\nsecond")
        }
    }

    @Test(arguments: [42001, 40014])
    func refusedTokenIsFetchedAgainOnceAndTheSendRetried(code: Int) async throws {
        let service = WeComAppService()
        try await FakeService.with(service.handler) { fake in
            let channel = try Self.channel(fake)
            #expect(try await deliver(channel).ok)
            if code == 42001 { service.expireAll() } else { service.revokeAll() }
            let delivery = try await deliver(channel)
            #expect(delivery == .delivered(status: 200))
            #expect(service.gettokenCalls == 2)
            let sends = Self.sends(fake)
            #expect(sends.count == 3)
            #expect(sends.last?.query["access_token"] == service.issued.last)
            // The new token is cached: the next send needs no gettoken.
            #expect(try await deliver(channel).ok)
            #expect(service.gettokenCalls == 2)
        }
    }

    @Test func aFreshTokenThatIsRefusedIsNotRetriedInALoop() async throws {
        let service = WeComAppService()
        service.refuseEveryToken()
        try await FakeService.with(service.handler) { fake in
            let delivery = try await deliver(try Self.channel(fake))
            #expect(!delivery.ok)
            #expect(delivery.error?.hasPrefix("errcode 42001: access_token expired") == true)
            #expect(service.gettokenCalls == 1)
            #expect(Self.sends(fake).count == 1)
        }
    }

    @Test func wrongSecretIsReportedFromGettokenWithoutEchoingIt() async throws {
        let service = WeComAppService()
        try await FakeService.with(service.handler) { fake in
            let am = "\(WeComAppService.corpID),WrongSecretWrongSecret123,ada,\(WeComAppService.agentID)"
            let delivery = try await deliver(try Self.channel(fake, am: am))
            #expect(!delivery.ok)
            #expect(delivery.error?.hasPrefix("gettoken: errcode 40001: invalid credential") == true)
            #expect(delivery.error?.contains("corpsecret") == true)
            #expect(delivery.error?.contains("WrongSecret") == false)
            #expect(Self.sends(fake).isEmpty)
        }
    }

    @Test func wrongCorpIDIsNamed() async throws {
        try await FakeService.with(WeComAppService().handler) { fake in
            let am = "wwnotacorp,\(WeComAppService.corpSecret),ada,\(WeComAppService.agentID)"
            let delivery = try await deliver(try Self.channel(fake, am: am))
            #expect(delivery.error?.hasPrefix("gettoken: errcode 40013: invalid corpid") == true)
            #expect(delivery.error?.contains("check corpid") == true)
        }
    }

    @Test func unreachedRecipientsMakeItAFailureNamingThem() async throws {
        try await FakeService.with(WeComAppService().handler) { fake in
            let am = "\(WeComAppService.corpID),\(WeComAppService.corpSecret),ada|bob|eve,\(WeComAppService.agentID)"
            let delivery = try await deliver(try Self.channel(fake, am: am))
            #expect(!delivery.ok)
            #expect(delivery.error?.hasPrefix("errcode 0 but not delivered to invaliduser bob|eve") == true)
            #expect(delivery.error?.contains("touser") == true)
        }
    }

    @Test func allRecipientsInvalidIsReported() async throws {
        try await FakeService.with(WeComAppService().handler) { fake in
            let am = "\(WeComAppService.corpID),\(WeComAppService.corpSecret),nobody,\(WeComAppService.agentID)"
            let delivery = try await deliver(try Self.channel(fake, am: am))
            #expect(delivery.error?.hasPrefix("errcode 81013: user & party & tag all invalid") == true)
        }
    }

    @Test func untrustedIPIsExplained() async throws {
        let refused = #"{"errcode":60020,"errmsg":"not allow to access from your ip, \#(WeComAppService.hint(60020))"}"#
        try await FakeService.with({ request in
            request.path == "/cgi-bin/gettoken"
                ? .raw(#"{"errcode":0,"errmsg":"ok","access_token":"tokenFromGettoken0123456789","expires_in":7200}"#)
                : .raw(refused)
        }) { fake in
            let delivery = try await deliver(try Self.channel(fake))
            #expect(delivery.error?.hasPrefix("errcode 60020: not allow to access from your ip") == true)
            #expect(delivery.error?.contains("trusted IP") == true)
            #expect(!delivery.isTransient)
        }
    }

    @Test func aLinkSendsATextCardWithinItsLimits() async throws {
        try await FakeService.with(WeComAppService().handler) { fake in
            let channel = try Self.channel(fake)
            let link = "https://mcp-push.example.net/approve/AbCdEfGhIjKlMnOpQrStUv"
            let long = "rm -rf <dir> && echo \"done\" " + String(repeating: "部署", count: 200)
            let message = Message(title: "🔐 Claude Code wants to run: Bash", body: long, url: link)
            #expect(try await deliver(channel, message.prepared(for: WeComApp.descriptor)).ok)
            let body = try #require(fake.lastRequest?.json)
            #expect(body["msgtype"]?.string == "textcard")
            let card = try #require(body["textcard"])
            #expect(card["url"]?.string == link && card["title"]?.string == "🔐 Claude Code wants to run: Bash")
            let description = try #require(card["description"]?.string)
            #expect(description.hasPrefix("rm -rf &lt;dir&gt; &amp;&amp; echo &quot;done&quot; 部署"))
            #expect(description.utf8.count <= 512 && description.hasSuffix("…"))
        }
    }

    @Test func anArticleLinksToTheMessagesLink() async throws {
        try await FakeService.with(WeComAppService().handler) { fake in
            let channel = try Self.channel(fake, am: Self.amValue + ",2-G6nrLmr5EC3MMb_-zK1dDdzmd0p7cNliYu9V5w7o8K0")
            #expect(try await deliver(channel, Message(title: "Report", body: "ready", url: "https://example.com/r/1")).ok)
            #expect(fake.lastRequest?.json?["mpnews"]?["articles"]?[0]?["content_source_url"]?.string == "https://example.com/r/1")
        }
    }

    @Test func mediaIDSendsAnEscapedMpnewsArticle() async throws {
        try await FakeService.with(WeComAppService().handler) { fake in
            let channel = try Self.channel(fake, am: Self.amValue + ",2-G6nrLmr5EC3MMb_-zK1dDdzmd0p7cNliYu9V5w7o8K0")
            let delivery = try await deliver(channel, Message(title: "Deploy <prod>", body: "a < b & c\nnext \"line\""))
            #expect(delivery.ok)
            let body = try #require(fake.lastRequest?.json)
            #expect(body["msgtype"]?.string == "mpnews")
            let article = try #require(body["mpnews"]?["articles"]?[0])
            #expect(article["title"]?.string == "Deploy <prod>")
            #expect(article["content"]?.string == "a &lt; b &amp; c<br>next &quot;line&quot;")
            #expect(article["digest"]?.string == "a < b & c\nnext \"line\"")
        }
    }

    @Test(arguments: ["0", "1"])
    func mediaIDZeroAndOneSendText(mediaID: String) throws {
        let channel = try makeChannel(WeComApp.self, ["QYWX_AM": Self.amValue + "," + mediaID])
        #expect(channel.thumbMediaID == nil)
        #expect(channel.payload(Message(title: "t", body: "b"))["msgtype"]?.string == "text")
    }

    @Test func accessTokenIsRegisteredWithTheRedactor() async throws {
        let service = WeComAppService()
        try await FakeService.with(service.handler) { fake in
            let channel = try Self.channel(fake)
            let redactor = Redactor()
            _ = try await withContext(redactor: redactor) { context in try await channel.send(Message(title: "t", body: "b"), context: context) }
            let token = try #require(service.issued.first)
            #expect(redactor.redact("url ?access_token=\(token)") == "url ?access_token=***")
        }
    }

    @Test func baseURLOverrideIsHonouredAndOriginWins() async throws {
        try await FakeService.with(WeComAppService().handler) { fake in
            let viaBase = try makeChannel(WeComApp.self, ["QYWX_AM": Self.amValue, "MCP_PUSH_WECOM_APP_BASE_URL": fake.baseURL])
            #expect(try await deliver(viaBase).ok)
            let both = try Self.channel(fake, ["MCP_PUSH_WECOM_APP_BASE_URL": "http://127.0.0.1:9"])
            #expect(try await deliver(both).ok)
        }
        #expect(try makeChannel(WeComApp.self, ["QYWX_AM": Self.amValue]).origin == "https://qyapi.weixin.qq.com")
    }

    @Test(arguments: [
        "ww1,secretsecretsecret,ada",
        "ww1,secretsecretsecret,ada,1000002,media,extra",
        "ww1,secretsecretsecret,ada,agent",
        "ww1,,ada,1000002",
    ])
    func malformedQYWXAMIsInvalidWithoutEchoingTheSecret(value: String) {
        do {
            _ = try WeComApp(configuration: Configuration(["QYWX_AM": value]))
            Issue.record("expected QYWX_AM \(value.count) characters to be rejected")
        } catch {
            guard case .invalid(let name, let reason) = error else {
                Issue.record("expected .invalid, got \(error)")
                return
            }
            #expect(name == "QYWX_AM")
            #expect(!reason.contains("secretsecretsecret"))
        }
    }

    @Test func sharedOriginAloneConfiguresNothing() throws {
        #expect(try WeComApp(configuration: Configuration(["QYWX_ORIGIN": "https://proxy.example.com"])) == nil)
        let channel = try makeChannel(WeComApp.self, ["QYWX_AM": Self.amValue])
        #expect(channel.secrets == [WeComAppService.corpSecret])
        #expect(!channel.summary.contains(WeComAppService.corpSecret))
    }
}
