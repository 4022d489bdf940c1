import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct WxPusherTests {
    static let appToken = "AT_qHT0cTQfcRWMzKLI2r8L5O4ZbpXdVKeB"
    static let uid = "UID_xfZMQTtRh6fpSQ0Uh6Rk3O4Xq2N5"

    /// WxPusher's /api/send/message: code 1000 overall, and a code per topic or user.
    static let service: FakeService.Handler = { request in
        guard request.method == "POST", request.path == "/api/send/message", let body = request.json else {
            return .raw(#"{"code":1003,"msg":"请求体不能为空","data":null,"success":false}"#)
        }
        guard body["appToken"]?.string == appToken else {
            return .raw(#"{"code":1002,"msg":"appToken不正确或已经过期","data":null,"success":false}"#)
        }
        // contentType 1 text, 2 HTML, 3 Markdown.
        guard let type = body["contentType"]?.int, (1...3).contains(type), let summary = body["summary"]?.string, summary.count <= 100,
            body["content"]?.string?.isEmpty == false
        else { return .raw(#"{"code":1003,"msg":"参数错误","data":null,"success":false}"#) }
        var data: [String] = []
        for topic in body["topicIds"]?.array ?? [] {
            data.append(#"{"uid":null,"topicId":\#(topic.int ?? 0),"messageId":1,"messageContentId":2,"sendRecordId":3,"code":1000,"status":"创建发送任务成功"}"#)
        }
        for user in body["uids"]?.array ?? [] {
            let known = user.string == uid
            data.append(#"{"uid":"\#(user.string ?? "")","topicId":null,"messageId":1,"messageContentId":2,"sendRecordId":3,"code":\#(known ? 1000 : 1004),"status":"\#(known ? "创建发送任务成功" : "用户不存在或者已经取消关注")"}"#)
        }
        return .raw(#"{"code":1000,"msg":"处理成功","data":[\#(data.joined(separator: ","))],"success":true}"#)
    }

    func variables(_ fake: FakeService, _ extra: [String: String]) -> [String: String] {
        ["WXPUSHER_APP_TOKEN": Self.appToken, "MCP_PUSH_WXPUSHER_BASE_URL": fake.baseURL].merging(extra) { $1 }
    }

    @Test func deliversToTopicsAndUsers() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(WxPusher.self, variables(fake, ["WXPUSHER_TOPIC_IDS": "123;456", "WXPUSHER_UIDS": Self.uid]))
            #expect(try await deliver(channel) == .delivered(status: 200))
            let body = try #require(fake.lastRequest?.json)
            #expect(body["topicIds"]?.array?.compactMap(\.int) == [123, 456])
            #expect(body["uids"]?.array?.compactMap(\.string) == [Self.uid])
            #expect(body["summary"]?.string == "Build finished")
        }
    }

    @Test func aRefusedUserFailsTheChannelByName() async throws {
        try await FakeService.with(Self.service) { fake in
            let channel = try makeChannel(WxPusher.self, variables(fake, ["WXPUSHER_UIDS": "\(Self.uid);UID_gone"]))
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.error == "not delivered to UID_gone: 用户不存在或者已经取消关注")
        }
    }

    @Test func wrongTokenIsReportedWithHint() async throws {
        try await FakeService.with(Self.service) { fake in
            var variables = variables(fake, ["WXPUSHER_TOPIC_IDS": "123"])
            variables["WXPUSHER_APP_TOKEN"] = "AT_wrong"
            let delivery = try await deliver(try makeChannel(WxPusher.self, variables))
            #expect(delivery.error == "code 1002: appToken不正确或已经过期 (check WXPUSHER_APP_TOKEN)")
        }
    }

    @Test func tooFrequentIsTransient() async throws {
        let busy = #"{"code":1008,"msg":"发送频率过快，请稍后再试","data":null,"success":false}"#
        try await FakeService.with({ _ in .raw(busy) }) { fake in
            let delivery = try await deliver(try makeChannel(WxPusher.self, variables(fake, ["WXPUSHER_TOPIC_IDS": "1"])))
            #expect(!delivery.ok && delivery.isTransient)
            #expect(delivery.error?.hasPrefix("code 1008: 发送频率过快") == true)
        }
    }

    @Test func configuration() throws {
        #expect(try WxPusher(configuration: Configuration([:])) == nil)
        #expect(throws: ConfigurationError.missing(["WXPUSHER_TOPIC_IDS or WXPUSHER_UIDS"])) {
            try WxPusher(configuration: Configuration(["WXPUSHER_APP_TOKEN": Self.appToken]))
        }
        #expect(throws: ConfigurationError.missing(["WXPUSHER_APP_TOKEN"])) {
            try WxPusher(configuration: Configuration(["WXPUSHER_UIDS": Self.uid]))
        }
        #expect(throws: ConfigurationError.self) {
            try WxPusher(configuration: Configuration(["WXPUSHER_APP_TOKEN": Self.appToken, "WXPUSHER_TOPIC_IDS": "12;abc"]))
        }
        #expect(throws: ConfigurationError.self) {
            try WxPusher(configuration: Configuration(["WXPUSHER_APP_TOKEN": Self.appToken, "WXPUSHER_TOPIC_IDS": "1;2;3;4;5;6"]))
        }
        let channel = try makeChannel(WxPusher.self, ["WXPUSHER_APP_TOKEN": Self.appToken, "WXPUSHER_TOPIC_IDS": "1"])
        #expect(channel.endpoint == "https://wxpusher.zjiecode.com/api/send/message")
        #expect(!channel.summary.contains(Self.appToken))
    }
}
