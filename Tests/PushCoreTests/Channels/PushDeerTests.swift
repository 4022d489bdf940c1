import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct PushDeerTests {
    static let key = "PDU1TtRhwbxSrMmJ38D4aPOduQdG82WcXOHVa"

    /// PushDeer's POST /message/push: Laravel validation first (HTTP 200 with code 80501),
    /// then the key lookup; an unknown key still answers code 0, with `result: false`.
    static func service(devices: Int = 1) -> FakeService.Handler {
        { request in
            guard request.method == "POST", request.path.hasSuffix("/message/push") else {
                return .raw("<!DOCTYPE html><html><body>Not Found</body></html>", status: 404, contentType: "text/html; charset=UTF-8")
            }
            let form = request.form
            guard request.contentType.hasPrefix("application/x-www-form-urlencoded"), let text = form["text"], !text.isEmpty else {
                return .raw(#"{"code":80501,"error":"The text field is required."}"#)
            }
            guard form["pushkey"] == key else {
                return .raw(#"{"code":0,"content":{"result":false}}"#)
            }
            let pushed = #""{\"counts\":1,\"logs\":[\"{\\\"code\\\":200,\\\"message\\\":\\\"success\\\"}\"]}""#
            let results = Array(repeating: pushed, count: devices).joined(separator: ",")
            return .raw(#"{"code":0,"content":{"result":[\#(results)]}}"#)
        }
    }

    @Test func deliversTitleAsTextAndBodyAsMarkdownDesp() async throws {
        try await FakeService.with(Self.service()) { fake in
            let channel = try makeChannel(PushDeer.self, ["DEER_KEY": Self.key, "MCP_PUSH_PUSHDEER_BASE_URL": fake.baseURL])
            #expect(try await deliver(channel) == .delivered(status: 200))
            let form = try #require(fake.lastRequest?.form)
            #expect(fake.lastRequest?.path == "/message/push")
            #expect(form["text"] == "Build finished")
            #expect(form["desp"] == "All 42 tests passed.\nSecond line & more")
            #expect(form["type"] == "markdown")
        }
    }

    @Test func unknownKeyIsAFailureDespiteCodeZero() async throws {
        try await FakeService.with(Self.service()) { fake in
            let channel = try makeChannel(PushDeer.self, ["DEER_KEY": "PDU0000unknown", "MCP_PUSH_PUSHDEER_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(!delivery.ok)
            #expect(delivery.error?.hasPrefix("code 0 but content.result is false") == true)
            #expect(delivery.error?.contains("DEER_KEY") == true)
        }
    }

    @Test func keyWithoutDevicesIsAFailure() async throws {
        try await FakeService.with(Self.service(devices: 0)) { fake in
            let channel = try makeChannel(PushDeer.self, ["DEER_KEY": Self.key, "MCP_PUSH_PUSHDEER_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel)
            #expect(delivery.error?.contains("no device") == true)
        }
    }

    @Test func validationErrorsAreReported() async throws {
        try await FakeService.with(Self.service()) { fake in
            let channel = try makeChannel(PushDeer.self, ["DEER_KEY": Self.key, "MCP_PUSH_PUSHDEER_BASE_URL": fake.baseURL])
            let delivery = try await deliver(channel, Message(title: "", body: "body only"))
            #expect(delivery.error == "code 80501: The text field is required.")
        }
    }

    @Test func deerURLIsTheFullEndpointAndWinsOverBaseURL() async throws {
        try await FakeService.with(Self.service()) { fake in
            let channel = try makeChannel(PushDeer.self, [
                "DEER_KEY": Self.key, "DEER_URL": fake.baseURL + "/deer/message/push", "MCP_PUSH_PUSHDEER_BASE_URL": "http://127.0.0.1:9",
            ])
            #expect(try await deliver(channel).ok)
            #expect(fake.lastRequest?.path == "/deer/message/push")
        }
        let bare = try makeChannel(PushDeer.self, ["DEER_KEY": Self.key, "DEER_URL": "https://deer.example.com/"])
        #expect(bare.endpoint == "https://deer.example.com/message/push")
        let hosted = try makeChannel(PushDeer.self, ["DEER_KEY": Self.key])
        #expect(hosted.endpoint == "https://api2.pushdeer.com/message/push")
    }

    @Test func urlWithoutKeyIsMisconfigured() {
        #expect(throws: ConfigurationError.missing(["DEER_KEY"])) {
            try PushDeer(configuration: Configuration(["DEER_URL": "https://deer.example.com/message/push"]))
        }
    }
}
