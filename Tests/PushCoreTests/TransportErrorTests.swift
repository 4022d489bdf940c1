import Foundation
import NIOCore
import NIOSSL
@testable import PushCore
import TestSupport
import Testing

/// Transport failures are classified from their types: what another try can fix is transient,
/// what it cannot (a request our side cannot build, a certificate that does not verify) is not.
@Suite struct TransportErrorTests {
    /// The error a request fails with, from a client of its own.
    func failure(_ request: HTTPRequestSpec, timeout: Duration = .seconds(5)) async -> TransportError? {
        let http = HTTPService()
        let error: TransportError?
        do {
            _ = try await http.perform(request, timeout: timeout)
            error = nil
        } catch let failure {
            error = failure as? TransportError
        }
        await http.shutdown()
        return error
    }

    @Test func aRefusedConnectionIsTransient() async throws {
        let error = try #require(await failure(HTTPRequestSpec(method: .GET, url: "http://127.0.0.1:9/")))
        #expect(error.description == "connection refused (127.0.0.1:9)")
        #expect(error.isTransient)
    }

    /// Defect 10: a header value with a line break (a multi-line token) was retried and queued forever.
    @Test func aHeaderWithALineBreakIsPermanentAndNeverSent() async throws {
        try await FakeService.with({ _ in .raw("{}") }) { fake in
            let error = try #require(await failure(HTTPRequestSpec(
                url: "\(fake.baseURL)/x", headers: [("Authorization", "Bearer tk_first\r\nX-Injected: yes")])))
            #expect(!error.isTransient)
            #expect(error.description.contains("Authorization header's value holds a line break"))
            #expect(!error.description.contains("tk_first"), "the value is not quoted")
            let badName = try #require(await failure(HTTPRequestSpec(url: "\(fake.baseURL)/x", headers: [("X Bad", "v")])))
            #expect(!badName.isTransient)
            #expect(fake.requests.isEmpty, "nothing reached the service")
        }
    }

    @Test func aTokenWithANewlineFailsOnceInsteadOfBeingQueued() async throws {
        try await FakeService.with({ _ in .raw(#"{"id":"x","event":"message"}"#) }) { fake in
            let notifier = try Notifier(configuration: Configuration([
                "NTFY_TOPIC": "builds", "NTFY_URL": fake.baseURL, "NTFY_TOKEN": "tk_pasted\nwith a newline",
            ]))
            let result = try await notifier.send(title: "t", content: "c")
            await notifier.shutdown()
            let ntfy = try #require(result.results.first)
            #expect(!ntfy.ok && !ntfy.queued && ntfy.attempts == 1, "\(result.jsonText)")
            #expect(fake.requests.isEmpty)
        }
    }

    @Test func anUnsupportedSchemeIsPermanent() async throws {
        let error = try #require(await failure(HTTPRequestSpec(url: "ftp://127.0.0.1/push")))
        #expect(!error.isTransient)
        #expect(error.description.hasPrefix("unsupported URL scheme \"ftp\""))
    }

    @Test func aServiceThatNeverAnswersTimesOutTransiently() async throws {
        try await FakeService.with({ _ in try await Task.sleep(for: .seconds(5)); return .raw("{}") }) { fake in
            let error = try #require(await failure(HTTPRequestSpec(url: "\(fake.baseURL)/x"), timeout: .milliseconds(300)))
            #expect(error.description.hasPrefix("timed out waiting for the service"))
            #expect(error.isTransient)
        }
    }

    /// A real TLS server (openssl s_server) with a self-signed certificate: the certificate does not
    /// verify, which no retry fixes.
    @Test func anUntrustedCertificateIsPermanent() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cert = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                                     "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        let port = Int.random(in: 20_000..<60_000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        server.arguments = ["s_server", "-quiet", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-www"]
        server.standardInput = Pipe()
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate() }
        var error: TransportError?
        for _ in 0..<50 {
            error = await failure(HTTPRequestSpec(method: .GET, url: "https://127.0.0.1:\(port)/"))
            if error?.description.hasPrefix("connection refused") != true { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let tls = try #require(error)
        #expect(tls.description.contains("CERTIFICATE_VERIFY_FAILED"), "\(tls)")
        #expect(!tls.isTransient)
    }

    @Test func errorTypesWithoutALiveServer() {
        #expect(TransportError.explain(IOError(errnoCode: ECONNRESET, reason: "read")) == ("the service reset the connection", true))
        #expect(TransportError.explain(IOError(errnoCode: EHOSTUNREACH, reason: "connect")) == ("network unreachable", true))
        #expect(TransportError.explain(ChannelError.ioOnClosedChannel) == ("the service closed the connection", true))
        #expect(TransportError.explain(SocketAddressError.unknown(host: "push.invalid", port: 443)) == ("cannot resolve host name", true))
        #expect(TransportError.explain(NIOSSLExtraError.failedToValidateHostname).1 == false)
        #expect(TransportError.explain(NIOSSLError.uncleanShutdown).1 == true)
    }

    private func run(_ path: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
    }
}
