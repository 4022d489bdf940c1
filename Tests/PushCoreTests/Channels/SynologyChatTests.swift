import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct SynologyChatTests {
    static let token = "aBcD3fGh1JkLmN0pQrStUvWxYz0123456789aBcD3fGh1JkLmN0pQrStUvWx"
    static let path = "/webapi/entry.cgi"

    /// Synology Chat's incoming webhook: token in quotes in the query, form field payload holding JSON.
    static let service: FakeService.Handler = { request in
        let query = request.query
        guard request.method == "POST", request.path == path, query["api"] == "SYNO.Chat.External", query["method"] == "incoming" else {
            return .raw(#"{"error":{"code":103,"errors":"The requested method does not exist."},"success":false}"#)
        }
        guard query["token"] == "\"\(token)\"" else {
            return .raw(#"{"error":{"code":404,"errors":"invalid token"},"success":false}"#)
        }
        guard let payload = request.form["payload"], let json = JSONValue.decode(Data(payload.utf8)), let text = json["text"]?.string else {
            return .raw(#"{"error":{"code":120,"errors":{"name":"payload","reason":"required"}},"success":false}"#)
        }
        if text.count > 500 { return .raw(#"{"error":{"code":410,"errors":"msg too long"},"success":false}"#) }
        return .raw(#"{"success":true}"#)
    }

    func url(_ fake: FakeService) -> String {
        fake.baseURL + Self.path + "?api=SYNO.Chat.External&method=incoming&version=2&token="
    }

    @Test(arguments: [token, "%22\(token)%22", "\"\(token)\""])
    func deliversWithTheTokenHoweverItWasCopied(token: String) async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(SynologyChat.self, ["CHAT_URL": url(fake), "CHAT_TOKEN": token])
            let message = Message(title: "Build & deploy", body: "quote \" and + plus\nnew line")
            #expect(try await withContext { try await channel.send(message, context: $0) } == .delivered(status: 200))
            let payload = try #require(fake.lastRequest?.form["payload"])
            #expect(JSONValue.decode(Data(payload.utf8))?["text"]?.string == "Build & deploy\n\nquote \" and + plus\nnew line")
        }
    }

    @Test func failuresArriveWithStatus200AndAreReported() async throws {
        try await FakeService.with(Self.service) { fake in
            let wrong = try makeChannel(SynologyChat.self, ["CHAT_URL": url(fake), "CHAT_TOKEN": "not-the-token"])
            #expect(try await deliver(wrong).error == "code 404: invalid token (check CHAT_TOKEN and CHAT_URL)")
            let right = try makeChannel(SynologyChat.self, ["CHAT_URL": url(fake), "CHAT_TOKEN": Self.token])
            let long = try await withContext { try await right.send(Message(title: "t", body: String(repeating: "x", count: 600)), context: $0) }
            #expect(!long.ok && long.error?.hasPrefix("code 410: msg too long") == true)
        }
    }

    @Test func configuration() throws {
        #expect(throws: ConfigurationError.missing(["CHAT_TOKEN"])) { try SynologyChat(configuration: Configuration(["CHAT_URL": "https://nas:5001/webapi/entry.cgi?token="])) }
        let channel = try makeChannel(SynologyChat.self, ["CHAT_URL": "https://nas.local:5001/webapi/entry.cgi?api=SYNO.Chat.External&method=incoming&version=2", "CHAT_TOKEN": Self.token])
        #expect(channel.url.hasSuffix("&version=2&token=%22\(Self.token)%22"))
        #expect(!channel.summary.contains(Self.token))
    }
}
