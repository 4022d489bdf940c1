import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct GotifyTests {
    static let token = "AJ1rKZ8v0xQ.m3Z"

    /// gotify/server's POST /message (under an optional prefix): application token in
    /// X-Gotify-Key, JSON body with a non-empty message; answers the stored message.
    static func service(prefix: String = "") -> FakeService.Handler {
        { request in
            guard request.method == "POST", request.path == prefix + "/message" else {
                return .raw(#"{"error":"Not Found","errorCode":404,"errorDescription":"page not found"}"#, status: 404)
            }
            guard request.headers["x-gotify-key"] == token, !request.rawQuery.contains("token") else {
                return .raw(
                    #"{"error":"Unauthorized","errorCode":401,"errorDescription":"you need to provide a valid access token or user credentials to access this api"}"#,
                    status: 401)
            }
            guard request.contentType.hasPrefix("application/json"), let body = request.json,
                let message = body["message"]?.string, !message.isEmpty
            else {
                return .raw(#"{"error":"Bad Request","errorCode":400,"errorDescription":"Field 'message' is required"}"#, status: 400)
            }
            let stored: JSONValue = [
                "id": 25, "appid": 3, "message": .string(message), "title": body["title"] ?? .null,
                "priority": body["priority"] ?? 0, "date": "2024-11-24T00:00:00.000000000Z",
            ]
            return .json(stored)
        }
    }

    @Test func deliversWithTheTokenInAHeaderAndANotifyingPriority() async throws {
        try await FakeService.with(Self.service()) { fake in
            let channel = try makeChannel(Gotify.self, ["GOTIFY_URL": fake.baseURL, "GOTIFY_TOKEN": Self.token])
            #expect(try await deliver(channel) == .delivered(status: 200))
            let request = try #require(fake.lastRequest)
            #expect(request.rawQuery.isEmpty)
            let body = try #require(request.json)
            #expect(body["title"]?.string == "Build finished")
            #expect(body["message"]?.string == "All 42 tests passed.\nSecond line & more")
            #expect(body["priority"]?.int == 5, "0 would be silent on Android")
        }
    }

    @Test func pathPrefixAndPriorityAreKept() async throws {
        try await FakeService.with(Self.service(prefix: "/gotify")) { fake in
            let channel = try makeChannel(Gotify.self, [
                "GOTIFY_URL": fake.baseURL + "/gotify/", "GOTIFY_TOKEN": Self.token, "GOTIFY_PRIORITY": "8",
            ])
            #expect(try await deliver(channel).ok)
            #expect(fake.lastRequest?.json?["priority"]?.int == 8)
        }
    }

    @Test func wrongTokenIsReportedWithTheServersReason() async throws {
        try await FakeService.with(Self.service()) { fake in
            let channel = try makeChannel(Gotify.self, ["GOTIFY_URL": fake.baseURL, "GOTIFY_TOKEN": "Cl13ntT0kenNotApp"])
            let delivery = try await deliver(channel)
            #expect(delivery.statusCode == 401)
            #expect(delivery.error?.hasPrefix("HTTP 401: errorCode 401: you need to provide a valid access token") == true)
            #expect(delivery.error?.contains("GOTIFY_TOKEN") == true)
        }
    }

    @Test func wrongPathIsReported() async throws {
        try await FakeService.with(Self.service(prefix: "/gotify")) { fake in
            let channel = try makeChannel(Gotify.self, ["GOTIFY_URL": fake.baseURL, "GOTIFY_TOKEN": Self.token])
            let delivery = try await deliver(channel)
            #expect(delivery.error == "HTTP 404: errorCode 404: page not found (check GOTIFY_URL)")
        }
    }

    @Test func emptyBodySendsTheTitleAsTheMessage() async throws {
        try await FakeService.with(Self.service()) { fake in
            let channel = try makeChannel(Gotify.self, ["GOTIFY_URL": fake.baseURL, "GOTIFY_TOKEN": Self.token])
            #expect(try await deliver(channel, Message(title: "Only a title", body: "")).ok)
            #expect(fake.lastRequest?.json?["message"]?.string == "Only a title")
        }
    }

    @Test func baseURLVariableStandsInForGotifyURLWhichWins() async throws {
        try await FakeService.with(Self.service()) { fake in
            let viaBase = try makeChannel(Gotify.self, ["MCP_PUSH_GOTIFY_BASE_URL": fake.baseURL, "GOTIFY_TOKEN": Self.token])
            #expect(try await deliver(viaBase).ok)
            let both = try makeChannel(Gotify.self, [
                "GOTIFY_URL": fake.baseURL, "MCP_PUSH_GOTIFY_BASE_URL": "http://127.0.0.1:9", "GOTIFY_TOKEN": Self.token,
            ])
            #expect(try await deliver(both).ok)
        }
    }

    @Test func partialConfigurationNamesWhatIsMissing() {
        #expect(throws: ConfigurationError.missing(["GOTIFY_TOKEN"])) {
            try Gotify(configuration: Configuration(["GOTIFY_URL": "https://push.example.com"]))
        }
        #expect(throws: ConfigurationError.missing(["GOTIFY_URL"])) {
            try Gotify(configuration: Configuration(["GOTIFY_TOKEN": Self.token]))
        }
        #expect(throws: ConfigurationError.missing(["GOTIFY_URL", "GOTIFY_TOKEN"])) {
            try Gotify(configuration: Configuration(["GOTIFY_PRIORITY": "4"]))
        }
        #expect(throws: ConfigurationError.self) {
            try Gotify(configuration: Configuration(["GOTIFY_URL": "https://push.example.com", "GOTIFY_TOKEN": Self.token, "GOTIFY_PRIORITY": "11"]))
        }
        #expect(throws: ConfigurationError.self) {
            try Gotify(configuration: Configuration(["GOTIFY_URL": "push.example.com", "GOTIFY_TOKEN": Self.token]))
        }
    }
}
