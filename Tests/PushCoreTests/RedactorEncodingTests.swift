import Foundation
@testable import PushCore
import TestSupport
import Testing

/// Defect: a token written with lower-case or mixed percent-encoding was echoed unredacted by a
/// service's error into the result, stderr and history.
@Suite struct RedactorEncodingTests {
    static let secret = "SECRET%2babc%2fdef%3d"  // as configured: already encoded, lower case

    @Test(arguments: [
        "SECRET%2babc%2fdef%3d", "SECRET%2Babc%2Fdef%3D", "SECRET%2Babc/def%3D", "SECRET+abc/def=", "SECRET abc/def=",
        #"SECRET+abc\/def="#, "%53%45%43RET%2babc%2Fdef=", "SECRET%252babc",
    ])
    func everyEncodingOfTheSecretIsMasked(echo: String) {
        let redactor = Redactor(secrets: [Self.secret])
        let masked = redactor.redact("400 Bad Request: bad key in /hook?key=\(echo)&x=1")
        if echo == "SECRET%252babc" {
            // Encoded twice is another string: left as it is (no service double-encodes a query value back).
            #expect(masked.contains("SECRET%252babc"))
        } else {
            #expect(masked == "400 Bad Request: bad key in /hook?key=***&x=1", "\(echo) -> \(masked)")
        }
    }

    @Test func textWithoutSecretsIsUntouched() {
        let text = "Delivered to bark, ntfy. 中文 🚀 100% done %zz %2"
        #expect(Redactor(secrets: [Self.secret, "another-token-value"]).redact(text) == text)
    }

    @Test func aWebhookEchoingItsURLLeaksNothing() async throws {
        try await FakeService.with({ request in .text("invalid key in \(request.path)?\(request.rawQuery)", status: 400) }) { fake in
            let notifier = try Notifier(configuration: Configuration([
                "WEBHOOK_URL": "\(fake.baseURL)/hook?key=\(Self.secret)&t=$title", "WEBHOOK_METHOD": "GET",
            ]))
            let result = try await notifier.send(title: "t", content: "c")
            await notifier.shutdown()
            let error = try #require(result.results.first?.error)
            #expect(error.contains("invalid key") && error.contains("***"), "\(error)")
            #expect(!error.lowercased().contains("secret"), "\(error)")
        }
    }
}
