import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct ServerChanTests {
    static let turboKey = "SCT218374TpQx9LmK2vRb7WnZ3cYdFg"
    static let serverChan3Key = "sctp4821tAbCdEfGhIjKlMnOpQrStUv"

    /// Turbo's POST /{key}.send and ServerChan³'s POST /send/{key}.send, form-encoded;
    /// both queue the message and answer code 0, or code 40001 for a key they do not know.
    static let service: FakeService.Handler = { request in
        guard request.method == "POST", request.path.hasSuffix(".send") else {
            return .raw(#"{"code":404,"message":"not found"}"#, status: 404)
        }
        let known = request.path == "/\(turboKey).send" || request.path == "/send/\(serverChan3Key).send"
        guard known else { return .raw(#"{"code":40001,"message":"bad pushtoken","data":null}"#) }
        let form = request.form
        guard request.contentType.hasPrefix("application/x-www-form-urlencoded"), let title = form["title"], !title.isEmpty else {
            return .raw(#"{"code":40001,"message":"title can't be empty","data":null}"#)
        }
        if request.path.hasPrefix("/send/") {
            return .raw(#"{"code":0,"message":"SUCCESS","errno":0,"data":{"pushid":"2480961","meta":{"android":null,"devices":[]}}}"#)
        }
        return .raw(#"{"code":0,"message":"","data":{"pushid":"134625874","readkey":"SCTvBzXjmGh2N1d","error":"SUCCESS","errno":0}}"#)
    }

    @Test func turboKeyPostsToItsPathWithDoubledNewlines() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(ServerChan.self, ["PUSH_KEY": Self.turboKey, "MCP_PUSH_SERVERCHAN_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel) == .delivered(status: 200))
            let request = try #require(fake.lastRequest)
            #expect(request.path == "/\(Self.turboKey).send")
            #expect(request.form["title"] == "Build finished")
            #expect(request.form["desp"] == "All 42 tests passed.\n\nSecond line & more")
        }
    }

    @Test func serverChan3KeyPostsToItsOwnPath() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(ServerChan.self, ["PUSH_KEY": Self.serverChan3Key, "MCP_PUSH_SERVERCHAN_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel).ok)
            #expect(fake.lastRequest?.path == "/send/\(Self.serverChan3Key).send")
        }
    }

    @Test func defaultEndpointsFollowTheKeyKind() throws {
        let turbo = try makeChannel(ServerChan.self, ["PUSH_KEY": Self.turboKey])
        #expect(turbo.endpoint == "https://sctapi.ftqq.com/\(Self.turboKey).send")
        let three = try makeChannel(ServerChan.self, ["PUSH_KEY": Self.serverChan3Key])
        #expect(three.endpoint == "https://4821.push.ft07.com/send/\(Self.serverChan3Key).send")
    }

    @Test func unknownKeyIsReported() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(ServerChan.self, ["PUSH_KEY": "SCT000000wrongkey", "MCP_PUSH_SERVERCHAN_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.error?.hasPrefix("code 40001: bad pushtoken (check PUSH_KEY") == true)
        }
    }

    @Test func longTurboTitleIsCutAndKeptWholeInTheBody() async throws {
        try await FakeService.with(Self.service) { fake in
            let title = "Nightly build of mcp-push finished on the release branch"
            let channel = try makeChannel(ServerChan.self, ["PUSH_KEY": Self.turboKey, "MCP_PUSH_SERVERCHAN_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel, Message(title: title, body: "line 1\r\nline 2")).ok)
            let form = try #require(fake.lastRequest?.form)
            let sentTitle = try #require(form["title"])
            #expect(sentTitle.count == 32)
            #expect(sentTitle == String(title.prefix(31)) + "…")
            #expect(form["desp"] == "\(title)\n\nline 1\n\nline 2")
        }
    }

    @Test func serverChan3TitleIsNotCut() throws {
        let title = String(repeating: "长", count: 40)
        let channel = try makeChannel(ServerChan.self, ["PUSH_KEY": Self.serverChan3Key])
        let fields = Dictionary(uniqueKeysWithValues: channel.fields(Message(title: title, body: "")))
        #expect(fields["title"] == title)
        #expect(fields["desp"] == "")
    }

    @Test func olderErrnoAnswersAreRead() async throws {
        try await FakeService.with({ _ in .raw(#"{"errno":1024,"errmsg":"不要重复发送同样的内容"}"#) }) { fake in
            let channel = try makeChannel(ServerChan.self, ["PUSH_KEY": Self.turboKey, "MCP_PUSH_SERVERCHAN_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(delivery.error == "errno 1024: 不要重复发送同样的内容")
        }
        try await FakeService.with({ _ in .raw(#"{"errno":0,"errmsg":"success","dataset":"done"}"#) }) { fake in
            let channel = try makeChannel(ServerChan.self, ["PUSH_KEY": Self.turboKey, "MCP_PUSH_SERVERCHAN_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel).ok)
        }
    }

    @Test func quotaAnswerOverHTTP429IsTransient() async throws {
        try await FakeService.with({ _ in .text("Too Many Requests", status: 429) }) { fake in
            let channel = try makeChannel(ServerChan.self, ["PUSH_KEY": Self.turboKey, "MCP_PUSH_SERVERCHAN_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.isTransient)
        }
    }
}
