import Foundation
@testable import PushCore
import TestSupport
import Testing

/// Defect: placeholders were expanded inside the message itself, so text the user sent did not
/// arrive as written. The template is filled in one pass, in every place it can stand.
@Suite struct WebhookTemplateTests {
    static let tricky = Message(title: "costs $content X", body: "literally $title and $content X")

    func send(_ variables: [String: String]) async throws -> RecordedRequest? {
        try await FakeService.with({ _ in .raw(#"{"ok":true}"#) }) { fake in
            var variables = variables
            variables["WEBHOOK_URL"] = fake.baseURL + (variables["WEBHOOK_URL"] ?? "/hook")
            let channel = try makeChannel(Webhook.self, variables)
            _ = try await withContext { try await channel.send(Self.tricky, context: $0) }
            return fake.lastRequest
        }
    }

    @Test func oneFill() {
        #expect(Webhook.fill("[$title|$content|$titles|$$title]", Self.tricky) { $0 }
            == "[costs $content X|literally $title and $content X|costs $content Xs|$costs $content X]")
    }

    @Test func jsonBody() async throws {
        let request = try await send(["WEBHOOK_METHOD": "POST", "WEBHOOK_BODY": "t: $title\nc: $content\nboth: $title / $content"])
        let json = try #require(request?.json)
        #expect(json["t"]?.string == Self.tricky.title)
        #expect(json["c"]?.string == Self.tricky.body)
        #expect(json["both"]?.string == "\(Self.tricky.title) / \(Self.tricky.body)")
    }

    @Test(arguments: ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"])
    func otherBodies(contentType: String) async throws {
        let body = contentType == "text/plain" ? "$title\n$content" : "t: $title\nc: $content"
        let request = try await send(["WEBHOOK_METHOD": "POST", "WEBHOOK_CONTENT_TYPE": contentType, "WEBHOOK_BODY": body])
        let text = try #require(request?.text)
        switch contentType {
        case "application/x-www-form-urlencoded":
            #expect(request?.form["t"] == Self.tricky.title && request?.form["c"] == Self.tricky.body)
        case "multipart/form-data":
            #expect(text.contains("\r\n\r\n\(Self.tricky.title)\r\n") && text.contains("\r\n\r\n\(Self.tricky.body)\r\n"))
        default:
            #expect(text == "\(Self.tricky.title)\n\(Self.tricky.body)")
        }
    }

    @Test func urlAndHeaders() async throws {
        let request = try await send([
            "WEBHOOK_METHOD": "GET", "WEBHOOK_URL": "/hook?t=$title&c=$content", "WEBHOOK_HEADERS": "X-Title: $title",
        ])
        #expect(request?.query["t"] == Self.tricky.title)
        #expect(request?.query["c"] == Self.tricky.body)
        #expect(request?.headers["x-title"] == Self.tricky.title)
    }
}
