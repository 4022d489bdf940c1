import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct GoCQHTTPTests {
    static let token = "onebot-access-token-42"

    /// OneBot v11 HTTP API: Bearer token (401 missing, 403 wrong), JSON params, answers with status/retcode.
    static let service: FakeService.Handler = { request in
        guard let auth = request.headers["authorization"] else { return .raw("", status: 401, contentType: "text/plain") }
        guard auth == "Bearer \(token)" else { return .raw("", status: 403, contentType: "text/plain") }
        guard request.method == "POST", ["/send_private_msg", "/send_group_msg"].contains(request.path) else {
            return .raw("", status: 404, contentType: "text/plain")
        }
        guard request.contentType.hasPrefix("application/json"), let body = request.json,
            body["message"]?.string?.isEmpty == false, body["auto_escape"]?.bool == true
        else { return .raw("", status: 400, contentType: "text/plain") }
        if request.path == "/send_private_msg", body["user_id"]?.int == 10001 {
            return .raw(#"{"status":"ok","retcode":0,"data":{"message_id":1846203581},"message":"","wording":""}"#)
        }
        if request.path == "/send_group_msg", body["group_id"]?.int == 20002 {
            return .raw(#"{"status":"ok","retcode":0,"data":{"message_id":1846203582},"message":"","wording":""}"#)
        }
        return .raw(#"{"status":"failed","retcode":100,"data":null,"message":"请参考 go-cqhttp 端输出","wording":"请参考 go-cqhttp 端输出","msg":"SEND_MSG_API_ERROR"}"#)
    }

    func variables(_ fake: FakeService, _ path: String = "/send_private_msg", qq: String = "user_id=10001", token: String? = token) -> [String: String] {
        var variables = ["GOBOT_URL": fake.baseURL + path, "GOBOT_QQ": qq]
        variables["GOBOT_TOKEN"] = token
        return variables
    }

    @Test func deliversPlainTextToAPerson() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(GoCQHTTP.self, variables(fake))
            let message = Message(title: "Build finished", body: "50% done & [CQ:face,id=1] #tag +1")
            #expect(try await withContext { try await channel.send(message, context: $0) } == .delivered(status: 200))
            let body = try #require(fake.lastRequest?.json)
            #expect(body["message"]?.string == "Build finished\n\n50% done & [CQ:face,id=1] #tag +1")
            #expect(body["user_id"]?.int == 10001 && body["group_id"] == nil)
            #expect(fake.lastRequest?.rawQuery == "", "nothing in the query string, unlike the original")
        }
    }

    @Test func deliversToAGroup() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(GoCQHTTP.self, variables(fake, "/send_group_msg", qq: "group_id=20002"))
            #expect(try await deliver(channel).ok)
            #expect(fake.lastRequest?.json?["group_id"]?.int == 20002)
        }
    }

    @Test func failedStatusIsReportedWithItsRetcode() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(GoCQHTTP.self, variables(fake, qq: "user_id=99999"))
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.error == "retcode 100: 请参考 go-cqhttp 端输出")
        }
    }

    @Test(arguments: [(nil, "set GOBOT_TOKEN"), ("wrong-token", "check GOBOT_TOKEN")] as [(String?, String)])
    func tokenProblemsNameTheVariable(token: String?, hint: String) async throws {
        try await FakeService.with(Self.service) { fake in
            let delivery = try await deliver(try makeChannel(GoCQHTTP.self, variables(fake, token: token)))
            #expect(!delivery.ok && !delivery.isTransient)
            #expect(delivery.error?.contains(hint) == true)
        }
    }

    @Test func wrongActionPathIsReported() async throws {
        try await FakeService.with(Self.service) { fake in
            let delivery = try await deliver(try makeChannel(GoCQHTTP.self, variables(fake, "/send_msgs")))
            #expect(delivery.error?.contains("check GOBOT_URL") == true)
        }
    }

    @Test func configuration() throws {
        #expect(try GoCQHTTP(configuration: Configuration([:])) == nil)
        #expect(throws: ConfigurationError.missing(["GOBOT_QQ"])) { try GoCQHTTP(configuration: Configuration(["GOBOT_URL": "http://127.0.0.1:5700/send_private_msg"])) }
        #expect(throws: ConfigurationError.missing(["GOBOT_URL", "GOBOT_QQ"])) { try GoCQHTTP(configuration: Configuration(["GOBOT_TOKEN": "x"])) }
        for bad in ["10001", "qq=10001", "user_id=abc", "group_id="] {
            #expect(throws: ConfigurationError.self) {
                try GoCQHTTP(configuration: Configuration(["GOBOT_URL": "http://127.0.0.1:5700/send_private_msg", "GOBOT_QQ": bad]))
            }
        }
        let channel = try makeChannel(GoCQHTTP.self, ["GOBOT_URL": "http://127.0.0.1:5700/send_private_msg", "GOBOT_QQ": "user_id=1", "GOBOT_TOKEN": Self.token])
        #expect(channel.secrets == [Self.token])
        #expect(!channel.summary.contains(Self.token))
    }
}
