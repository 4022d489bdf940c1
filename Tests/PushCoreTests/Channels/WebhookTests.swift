import Foundation
@testable import PushCore
import TestSupport
import Testing

@Suite struct WebhookTests {
    static let awkward = Message(title: "Deploy \"v2\" & co", body: "line 1\nline 2 with \\ backslash, tab\t and 中文 🚀")

    func send(_ variables: [String: String], answer: FakeResponse = .raw(#"{"ok":true}"#), message: Message = awkward) async throws -> (Delivery, RecordedRequest?) {
        try await FakeService.with({ _ in answer }) { fake in
            var variables = variables
            variables["WEBHOOK_URL"] = fake.baseURL + (variables["WEBHOOK_URL"] ?? "/hook")
            let channel = try makeChannel(Webhook.self, variables)
            let delivery = try await withContext { try await channel.send(message, context: $0) }
            return (delivery, fake.lastRequest)
        }
    }

    @Test func jsonBodyStaysValidWhateverTheText() async throws {
        let (delivery, request) = try await send([
            "WEBHOOK_METHOD": "POST",
            "WEBHOOK_BODY": """
                title: $title
                content: "$content"
                text: Done: $title
                nested: {"msg": "$content", "level": 2}
                count: 3
                """,
        ])
        #expect(delivery.ok)
        #expect(request?.contentType == "application/json; charset=utf-8")
        let json = try #require(request?.json, "the body must be valid JSON: \(request?.text ?? "")")
        #expect(json["title"]?.string == Self.awkward.title)
        #expect(json["content"]?.string == Self.awkward.body)
        #expect(json["text"]?.string == "Done: \(Self.awkward.title)")
        #expect(json["nested"]?["msg"]?.string == Self.awkward.body)
        #expect(json["nested"]?["level"]?.int == 2)
        #expect(json["count"]?.int == 3)
        #expect(request?.text.hasPrefix(#"{"title":"#) == true, "keys keep the template's order")
    }

    @Test func formBodyIsEncoded() async throws {
        let (_, request) = try await send([
            "WEBHOOK_METHOD": "PUT", "WEBHOOK_CONTENT_TYPE": "application/x-www-form-urlencoded",
            "WEBHOOK_BODY": "title: $title\ncontent: $content",
        ])
        #expect(request?.method == "PUT")
        #expect(request?.form["title"] == Self.awkward.title)
        #expect(request?.form["content"] == Self.awkward.body)
    }

    @Test func plainTextBodyIsTheTemplateFilledIn() async throws {
        let (_, request) = try await send([
            "WEBHOOK_METHOD": "POST", "WEBHOOK_CONTENT_TYPE": "text/plain", "WEBHOOK_BODY": "[$title]\n$content",
        ])
        #expect(request?.contentType == "text/plain; charset=utf-8")
        #expect(request?.text == "[\(Self.awkward.title)]\n\(Self.awkward.body)")
    }

    @Test func multipartBodyHasOnePartPerField() async throws {
        let (_, request) = try await send([
            "WEBHOOK_METHOD": "POST", "WEBHOOK_CONTENT_TYPE": "multipart/form-data", "WEBHOOK_BODY": "title: $title\ncontent: $content",
        ])
        let type = try #require(request?.contentType)
        let boundary = try #require(type.components(separatedBy: "boundary=").last)
        let text = try #require(request?.text)
        #expect(text.contains("--\(boundary)\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n\(Self.awkward.body)\r\n"))
        #expect(text.hasSuffix("--\(boundary)--\r\n"))
    }

    @Test func urlAndHeadersAreFilledInSafely() async throws {
        let (delivery, request) = try await send([
            "WEBHOOK_URL": "/notify?title=$title&text=$content&key=hook-secret-123",
            "WEBHOOK_METHOD": "GET",
            "WEBHOOK_HEADERS": "Authorization: Bearer header-secret-456\nX-Title: $title\nX-Body: $content",
        ])
        #expect(delivery.ok)
        #expect(request?.method == "GET")
        #expect(request?.query["title"] == Self.awkward.title)
        #expect(request?.query["text"] == Self.awkward.body)
        #expect(request?.headers["authorization"] == "Bearer header-secret-456")
        #expect(request?.headers["x-body"] == "line 1 line 2 with \\ backslash, tab\t and 中文 🚀", "no line break may reach a header")
        let channel = try makeChannel(Webhook.self, [
            "WEBHOOK_URL": "https://example.com/n?key=hook-secret-123", "WEBHOOK_METHOD": "POST",
            "WEBHOOK_HEADERS": "Authorization: Bearer header-secret-456\nContent-Language: en",
        ])
        #expect(Set(channel.secrets).isSuperset(of: ["hook-secret-123", "header-secret-456"]))
        #expect(!channel.secrets.contains("en"))
        #expect(!channel.summary.contains("hook-secret-123"))
    }

    @Test(arguments: [200, 201, 204])
    func any2xxIsSuccess(status: Int) async throws {
        let (delivery, _) = try await send(["WEBHOOK_METHOD": "POST"], answer: .raw("", status: status))
        #expect(delivery == .delivered(status: status))
    }

    @Test func failureReportsStatusAndBody() async throws {
        let (delivery, _) = try await send(["WEBHOOK_METHOD": "POST"], answer: .raw(#"{"error":"channel archived"}"#, status: 410))
        #expect(delivery.error == #"HTTP 410 Gone: {"error":"channel archived"}"#)
        #expect(!delivery.isTransient)
        let (busy, _) = try await send(["WEBHOOK_METHOD": "POST"], answer: .raw("busy", status: 503, contentType: "text/plain"))
        #expect(busy.isTransient)
    }

    @Test func configuration() throws {
        #expect(try Webhook(configuration: Configuration([:])) == nil)
        #expect(throws: ConfigurationError.missing(["WEBHOOK_METHOD"])) { try Webhook(configuration: Configuration(["WEBHOOK_URL": "https://example.com"])) }
        #expect(throws: ConfigurationError.missing(["WEBHOOK_URL", "WEBHOOK_METHOD"])) { try Webhook(configuration: Configuration(["WEBHOOK_BODY": "a: b"])) }
        let base = ["WEBHOOK_URL": "https://example.com/$title", "WEBHOOK_METHOD": "POST"]
        for (name, value) in [("WEBHOOK_METHOD", "FETCH"), ("WEBHOOK_CONTENT_TYPE", "application/xml"), ("WEBHOOK_BODY", "no colon here"), ("WEBHOOK_URL", "example.com")] {
            #expect(throws: ConfigurationError.self, "\(name)=\(value)") { try Webhook(configuration: Configuration(base.merging([name: value]) { $1 })) }
        }
        #expect(throws: ConfigurationError.self) {
            try Webhook(configuration: Configuration(["WEBHOOK_URL": "https://example.com", "WEBHOOK_METHOD": "GET", "WEBHOOK_BODY": "a: b"]))
        }
    }
}
