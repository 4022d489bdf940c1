import Foundation
@testable import PushCore
import Testing

/// A real SMTP server process (aiosmtpd, see IntegrationTests/smtp/smtp_server.py) for one test.
final class SMTPTestServer: Sendable {
    static let python = ProcessInfo.processInfo.environment["MCP_PUSH_TEST_PYTHON"]
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("IntegrationTests/smtp/smtp_server.py").path
    static let user = "bot@example.com"
    static let password = "app-password-123"

    let process: Process
    let port: Int
    let certificate: String?
    let maildir: String

    init(_ arguments: [String] = []) async throws {
        maildir = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-push-smtp-\(UUID().uuidString)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.python))
        process.arguments = [Self.script, "--maildir", maildir, "--user", Self.user, "--password", Self.password] + arguments
        let output = Pipe()
        process.standardOutput = output
        // The server leaves when this pipe closes, even if the test process dies.
        process.standardInput = Pipe()
        try process.run()
        self.process = process
        // Read `CERT ...` and `PORT ...` off the main test threads: the read blocks.
        let lines = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var text = ""
                while !text.contains("PORT ") || !text.hasSuffix("\n") {
                    let chunk = output.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                continuation.resume(returning: text.split(separator: "\n").map(String.init))
            }
        }
        port = try #require(lines.first { $0.hasPrefix("PORT ") }.flatMap { Int($0.dropFirst(5)) }, "server output: \(lines)")
        certificate = lines.first { $0.hasPrefix("CERT ") }.map { String($0.dropFirst(5)) }
    }

    deinit {
        process.terminate()
    }

    /// The received messages parsed by Python's own `email` package (RFC 2047, quoted-printable).
    func received() throws -> [[String: JSONValue]] {
        let parser = """
            import email, email.policy, json, pathlib, sys
            out = []
            for eml in sorted(pathlib.Path(sys.argv[1]).glob("*.eml"), key=lambda p: int(p.stem)):
                m = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
                envelope = json.loads(eml.with_suffix(".json").read_text())
                out.append({"subject": str(m["subject"]), "from": str(m["from"]), "to": str(m["to"]), "date": str(m["date"]),
                            "message_id": str(m["message-id"]), "type": m.get_content_type(),
                            "body": m.get_body(preferencelist=("plain",)).get_content().replace("\\r\\n", "\\n"),
                            "html": (lambda h: h.get_content() if h else None)(m.get_body(preferencelist=("html",))), **envelope})
            print(json.dumps(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.python))
        process.arguments = ["-c", parser, maildir]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let messages = JSONValue.decode(data)?.array?.compactMap { $0.object }
        return try #require(messages)
    }

    func variables(_ extra: [String: String] = [:]) -> [String: String] {
        ["SMTP_SERVER": "localhost:\(port)", "SMTP_EMAIL": Self.user, "SMTP_PASSWORD": Self.password].merging(extra) { $1 }
    }
}

@Suite(.enabled(if: SMTPTestServer.python != nil, "set MCP_PUSH_TEST_PYTHON to a Python with aiosmtpd (scripts/test.sh does)"))
struct SMTPTests {
    static let chinese = Message(
        title: "构建完成 ✅ 全部 412 个测试通过，耗时十二分钟，详情见正文与链接（这是一个很长的标题）",
        body: "第一行：部署成功\n.\n.以点开头的一行\n最后一行 🚀 ünïcödé")

    func deliver(_ variables: [String: String], _ message: Message = chinese, timeout: Duration = .seconds(10)) async throws -> Delivery {
        let channel = try makeChannel(SMTP.self, variables)
        return try await withContext(timeout: timeout) { try await channel.send(message, context: $0) }
    }

    @Test func implicitTLSWithAUTHPlainDeliversChineseIntact() async throws {
        let server = try await SMTPTestServer(["--tls", "implicit", "--mechanisms", "PLAIN"])
        let delivery = try await deliver(server.variables([
            "SMTP_SSL": "true", "SMTP_CA_FILE": try #require(server.certificate), "SMTP_NAME": "构建机器人",
        ]))
        #expect(delivery == .delivered(status: 250), "\(delivery)")
        let mail = try #require(try server.received().first)
        #expect(mail["subject"]?.string == Self.chinese.title)
        #expect(mail["body"]?.string == Self.chinese.body + "\n", "a line holding a single dot and one starting with a dot survive")
        #expect(mail["from"]?.string == "构建机器人 <bot@example.com>")
        #expect(mail["rcpt_tos"]?.array?.compactMap(\.string) == ["bot@example.com"])
        #expect(mail["tls"]?.bool == true)
        #expect(mail["date"]?.string?.isEmpty == false && mail["message_id"]?.string?.hasSuffix("@example.com>") == true)
    }

    /// A Markdown body: the plain text, with an HTML alternative mail clients show instead.
    @Test func markdownGoesWithAnHTMLAlternative() async throws {
        let server = try await SMTPTestServer(["--tls", "implicit", "--mechanisms", "PLAIN"])
        let message = Message(title: "报告 <ok>", body: "**412** tests & `make` <b>x</b>\n\n- 中文\n- =\\_mcp-push\\_ boundary-like text", format: .markdown)
        let delivery = try await deliver(server.variables(["SMTP_SSL": "true", "SMTP_CA_FILE": try #require(server.certificate)]), message)
        #expect(delivery.ok, "\(delivery)")
        let mail = try #require(try server.received().first)
        #expect(mail["type"]?.string == "multipart/alternative")
        #expect(mail["subject"]?.string == "报告 <ok>")
        #expect(mail["body"]?.string == "412 tests & make <b>x</b>\n\n• 中文\n• =_mcp-push_ boundary-like text")
        let html = try #require(mail["html"]?.string)
        #expect(html.contains("<p><b>412</b> tests &amp; <code>make</code> &lt;b&gt;x&lt;/b&gt;</p><ul><li>中文</li><li>=_mcp-push_ boundary-like text</li></ul>"))
    }

    @Test func startTLSThenAUTHLoginToSeveralRecipients() async throws {
        let server = try await SMTPTestServer(["--tls", "starttls", "--mechanisms", "LOGIN"])
        let delivery = try await deliver(server.variables([
            "SMTP_TLS_INSECURE": "true", "SMTP_TO": "alice@example.com; bob@example.org",
        ]))
        #expect(delivery.ok, "\(delivery)")
        let mail = try #require(try server.received().first)
        #expect(mail["tls"]?.bool == true, "upgraded before logging in")
        #expect(mail["rcpt_tos"]?.array?.compactMap(\.string) == ["alice@example.com", "bob@example.org"])
        #expect(mail["to"]?.string == "alice@example.com, bob@example.org")
    }

    @Test func wrongPasswordIsAClearPermanentError() async throws {
        let server = try await SMTPTestServer(["--tls", "implicit"])
        let wrong = "wrong-password-789"
        let delivery = try await deliver(server.variables(["SMTP_SSL": "true", "SMTP_TLS_INSECURE": "true", "SMTP_PASSWORD": wrong]))
        #expect(!delivery.ok && !delivery.isTransient)
        #expect(delivery.statusCode == 535)
        let error = try #require(delivery.error)
        #expect(error.hasPrefix("AUTH PLAIN refused: 535"))
        #expect(error.contains("check SMTP_PASSWORD"))
        #expect(!error.contains(wrong) && !error.contains(Data(wrong.utf8).base64EncodedString()))
        #expect(try server.received().isEmpty)
    }

    @Test func noPasswordOverPlaintextUnlessAllowed() async throws {
        let server = try await SMTPTestServer(["--tls", "none"])
        let refused = try await deliver(server.variables())
        #expect(!refused.ok && !refused.isTransient)
        #expect(refused.error?.contains("offers no STARTTLS") == true)
        #expect(refused.error?.contains("SMTP_ALLOW_PLAINTEXT") == true)
        let allowed = try await deliver(server.variables(["SMTP_ALLOW_PLAINTEXT": "true"]))
        #expect(allowed.ok, "\(allowed)")
        #expect(try server.received().count == 1)
    }

    @Test func selfSignedCertificateIsRefusedByDefault() async throws {
        let server = try await SMTPTestServer(["--tls", "implicit"])
        let delivery = try await deliver(server.variables(["SMTP_SSL": "true"]))
        #expect(!delivery.ok)
        #expect(delivery.error?.hasPrefix("TLS failed") == true || delivery.error?.contains("certificate") == true, "\(delivery)")
        #expect(try server.received().isEmpty)
    }

    /// Defect: STARTTLS with an untrusted certificate was "cannot connect: sending EHLO: I/O on
    /// closed channel", transient, and retried forever. Now the same reason and verdict as implicit TLS.
    @Test func anUntrustedCertificateIsTheSamePermanentTLSFailureWithSTARTTLSAndImplicitTLS() async throws {
        let starttls = try await SMTPTestServer(["--tls", "starttls"])
        let implicit = try await SMTPTestServer(["--tls", "implicit"])
        let upgraded = try await deliver(starttls.variables())
        let direct = try await deliver(implicit.variables(["SMTP_SSL": "true"]))
        for delivery in [upgraded, direct] {
            #expect(!delivery.ok && !delivery.isTransient, "\(delivery)")
            let error = try #require(delivery.error)
            #expect(error.hasPrefix("TLS failed: handshake failed"), "\(error)")
            #expect(error.contains("CERTIFICATE_VERIFY_FAILED"), "\(error)")
            #expect(error.hasSuffix("(check SMTP_SERVER and SMTP_SSL; for a private CA use SMTP_CA_FILE)"))
        }
        #expect(try starttls.received().isEmpty && implicit.received().isEmpty)
    }

    @Test func aSilentServerTimesOut() async throws {
        let server = try await SMTPTestServer(["--hang"])
        let clock = ContinuousClock()
        let start = clock.now
        let delivery = try await deliver(server.variables(), timeout: .seconds(1))
        #expect(clock.now - start < .milliseconds(1900))
        #expect(!delivery.ok && delivery.isTransient)
        #expect(delivery.error == "timed out waiting for the server (greeting)")
    }
}

@Suite struct SMTPConfigurationTests {
    @Test func configuration() throws {
        #expect(try SMTP(configuration: Configuration([:])) == nil)
        #expect(throws: ConfigurationError.missing(["SMTP_PASSWORD"])) {
            try SMTP(configuration: Configuration(["SMTP_SERVER": "smtp.qq.com:465", "SMTP_EMAIL": "a@qq.com"]))
        }
        let base = ["SMTP_SERVER": "smtp.qq.com", "SMTP_EMAIL": "a@qq.com", "SMTP_PASSWORD": "authcode-1234"]
        #expect(try makeChannel(SMTP.self, base).server.port == 587)
        let tls = try makeChannel(SMTP.self, base.merging(["SMTP_SSL": "true"]) { $1 })
        #expect(tls.server.port == 465 && tls.server.security == .implicitTLS)
        #expect(try makeChannel(SMTP.self, base.merging(["SMTP_SERVER": "[::1]:2525"]) { $1 }).server.host == "::1")
        #expect(try makeChannel(SMTP.self, base.merging(["SMTP_EMAIL_TO": "x@y.z；w@v.u"]) { $1 }).recipients == ["x@y.z", "w@v.u"])
        for (name, value) in [("SMTP_SERVER", "smtp.qq.com:abc"), ("SMTP_EMAIL", "not-an-address"), ("SMTP_TO", "a@b.c, nope"), ("SMTP_SSL", "maybe"), ("SMTP_CA_FILE", "/nonexistent.pem")] {
            #expect(throws: ConfigurationError.self, "\(name)=\(value)") { try SMTP(configuration: Configuration(base.merging([name: value]) { $1 })) }
        }
        let channel = try makeChannel(SMTP.self, base)
        #expect(channel.secrets.contains("authcode-1234"))
        #expect(!channel.summary.contains("authcode-1234"))
    }
}
