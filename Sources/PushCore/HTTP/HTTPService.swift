import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A request as a channel builds it.
public struct HTTPRequestSpec: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: [(String, String)]
    public var body: Data?

    public init(method: HTTPMethod = .POST, url: String, headers: [(String, String)] = [], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// Why this request cannot be sent as built, which no retry changes; nil when it can.
    /// Checked before sending, so these never reach the client as errors to guess from.
    var unsendableReason: String? {
        let scheme = url.prefix { $0 != ":" }.lowercased()
        guard scheme == "http" || scheme == "https" else {
            return "unsupported URL scheme \"\(scheme)\" (use http:// or https://)"
        }
        // RFC 9110: a field name is a token; a value has no line break or NUL (a pasted multi-line token).
        for (name, value) in headers {
            if name.isEmpty || !name.utf8.allSatisfy(Self.isTokenByte) {
                return "header name \"\(name)\" cannot be sent"
            }
            if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
                return "the \(name) header's value holds a line break, which HTTP cannot carry (a token pasted with a newline?)"
            }
        }
        return nil
    }

    /// A visible ASCII character other than the separators `()<>@,;:\"/[]?={}` (bytes, not a `Set` of
    /// `Character`s: hashing each character was two thirds of building a request).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        guard byte > 32 && byte < 127 else { return false }
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"), UInt8(ascii: ","),
            UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: "?"), UInt8(ascii: "="), UInt8(ascii: "{"), UInt8(ascii: "}"):
            return false
        default:
            return true
        }
    }

    /// A POST with a JSON body; `null` members are dropped.
    public static func json(_ url: String, _ body: JSONValue, headers: [(String, String)] = []) throws -> HTTPRequestSpec {
        HTTPRequestSpec(
            url: url,
            headers: [("Content-Type", "application/json; charset=utf-8")] + headers,
            body: try body.compacted().encoded())
    }

    /// A POST with an `application/x-www-form-urlencoded` body.
    public static func form(_ url: String, _ fields: [(String, String)], headers: [(String, String)] = []) -> HTTPRequestSpec {
        HTTPRequestSpec(
            url: url,
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")] + headers,
            body: Data(utf8: PercentEncoding.form(fields)))
    }
}

/// The service's answer, body read in full up to a limit.
public struct HTTPAnswer: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    public let body: Data
    /// The body went on past ``HTTPService/maximumAnswerSize`` and was cut there.
    public let isCut: Bool

    public init(status: Int, headers: HTTPHeaders = [:], body: Data, isCut: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.isCut = isCut
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
    public var json: JSONValue? { JSONValue.decode(body) }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Where a request goes through: directly, or an HTTP proxy (Telegram's TG_PROXY_*).
public struct HTTPProxy: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// `user:password`, for proxies that need Basic auth.
    public var credentials: String?

    public init(host: String, port: Int, credentials: String? = nil) {
        self.host = host
        self.port = port
        self.credentials = credentials
    }
}

/// The one HTTP client every channel shares (async-http-client), created on first use
/// so that a server that is never asked to notify never builds a connection pool.
public final class HTTPService: Sendable {
    /// Answers are read up to this and cut there: no notification API answers with megabytes.
    static let maximumAnswerSize = 1 << 20

    private struct State {
        /// One client per proxy (usually just the direct one): a list, since a dictionary keyed by an
        /// optional costs two run-time conformance lookups on the way to the first delivery.
        var clients: [(proxy: HTTPProxy?, client: HTTPClient)] = []
        /// After ``shutdown()``, ``prepare()`` creates nothing (a client created then would never be closed).
        var isShutDown = false
    }

    private let state = Mutex(State())

    public init() {}

    /// The request as async-http-client sends it; one that cannot be sent as built is refused here.
    private func outgoing(_ request: HTTPRequestSpec) throws -> HTTPClientRequest {
        if let reason = request.unsendableReason { throw TransportError(reason: reason, isTransient: false, url: request.url) }
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = request.method
        outgoing.headers.add(name: "User-Agent", value: "mcp-push/\(PushCoreVersion.current)")
        for (name, value) in request.headers {
            outgoing.headers.replaceOrAdd(name: name, value: value)
        }
        if let body = request.body {
            outgoing.body = .bytes(ByteBuffer(bytes: body))
        }
        return outgoing
    }

    public func perform(_ request: HTTPRequestSpec, timeout: Duration, proxy: HTTPProxy? = nil) async throws -> HTTPAnswer {
        let outgoing = try outgoing(request)
        do {
            let response = try await client(for: proxy).execute(outgoing, deadline: .now() + TimeAmount(timeout))
            // What a verdict needs is the start of the body: an answer over the cap is cut, never a failure
            // (a service that accepted the message with a huge body has still accepted it). Leaving the loop
            // early drops the rest with the connection.
            var body = Data()
            var isCut = false
            for try await chunk in response.body {
                body.append(contentsOf: chunk.readableBytesView.prefix(Self.maximumAnswerSize - body.count))
                if body.count >= Self.maximumAnswerSize && chunk.readableBytes > 0 {
                    isCut = true
                    break
                }
            }
            return HTTPAnswer(status: Int(response.status.code), headers: response.headers, body: body, isCut: isCut)
        } catch {
            throw TransportError(error, url: request.url)
        }
    }

    /// Reads a streamed answer (ntfy's JSON subscription) line by line until `handle` returns false,
    /// the server ends it, or `timeout` passes; returns the status. A line longer than 64 KiB is dropped.
    package func streamLines(
        _ request: HTTPRequestSpec, timeout: Duration, handle: @Sendable (String) async -> Bool
    ) async throws -> Int {
        let outgoing = try outgoing(request)
        do {
            let response = try await client(for: nil).execute(outgoing, deadline: .now() + TimeAmount(timeout))
            guard response.status.code / 100 == 2 else { return Int(response.status.code) }
            var line: [UInt8] = []
            for try await chunk in response.body {
                for byte in chunk.readableBytesView {
                    if byte == UInt8(ascii: "\n") {
                        let text = String(decoding: line, as: UTF8.self)
                        line.removeAll(keepingCapacity: true)
                        if !(await handle(text)) { return Int(response.status.code) }
                    } else if line.count < 65_536 {
                        line.append(byte)
                    }
                }
            }
            return Int(response.status.code)
        } catch {
            throw TransportError(error, url: request.url)
        }
    }

    /// Creates the direct client and its event loops ahead of the first notification
    /// (no connection is opened), so the first call does not pay for them.
    public func prepare() {
        state.withLock { state in
            if !state.isShutDown { _ = Self.client(for: nil, in: &state) }
        }
    }

    /// Clients currently open (one per proxy in use).
    var openClients: Int { state.withLock { $0.clients.count } }

    /// Closes every connection. Call once, when the process is done sending.
    public func shutdown() async {
        let all = state.withLock { state in
            state.isShutDown = true
            defer { state.clients.removeAll() }
            return state.clients.map(\.client)
        }
        for client in all {
            try? await client.shutdown()
        }
    }

    private func client(for proxy: HTTPProxy?) -> HTTPClient {
        state.withLock { Self.client(for: proxy, in: &$0) }
    }

    private static func client(for proxy: HTTPProxy?, in state: inout State) -> HTTPClient {
        if let existing = state.clients.first(where: { $0.proxy == proxy }) { return existing.client }
        let client = makeClient(proxy: proxy, eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        state.clients.append((proxy, client))
        return client
    }

    static func makeClient(proxy: HTTPProxy?, eventLoopGroup: any EventLoopGroup) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10))
        // One call fans out to every channel at once, and several can share a host (self-hosted ntfy, Gotify and
        // Bark behind one proxy): the default of 8 connections per host made the ninth wait for a free one.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        // A refused connection is an answer: report it now instead of retrying until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        // Notification APIs do not redirect; a redirect means a wrong URL, which we report.
        configuration.redirectConfiguration = .disallow
        // No tracing: with the default (no-op) tracer each request still opened a span and parsed its URL a
        // second time for the span's attributes, a tenth of a 21-channel call's requests (docs/PERFORMANCE.md).
        configuration.tracing.tracer = nil
        if let proxy {
            let authorization = proxy.credentials.map { HTTPClient.Authorization.basic(credentials: Data($0.utf8).base64EncodedString()) }
            configuration.proxy = .server(host: proxy.host, port: proxy.port, authorization: authorization)
        }
        return HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
    }
}

/// A request that never got an HTTP answer: refused, timed out, TLS failure, DNS.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// Network trouble is worth another try; a malformed URL is not.
    public let isTransient: Bool

    init(_ error: any Error, url: String) {
        let (reason, transient) = Self.explain(error)
        self.init(reason: reason, isTransient: transient, url: url)
    }

    init(reason: String, isTransient: Bool, url: String) {
        let host = URL(string: url).flatMap { u in u.host.map { h in u.port.map { "\(h):\($0)" } ?? h } } ?? "the service"
        self.description = "\(reason) (\(host))"
        self.isTransient = isTransient
    }

    /// The reason in words and whether another try could help, from the error's type: network
    /// trouble is transient; a request our side cannot build, or a certificate that does not
    /// verify, stays wrong however often it is sent.
    static func explain(_ error: any Error) -> (String, Bool) {
        switch error {
        case let client as HTTPClientError: return explain(client)
        case let connection as NIOConnectionError:
            // Every address tried failed; a refusal from any says more than a DNS miss of the other family.
            if let refused = connection.connectionErrors.lazy.compactMap({ explain($0.error) as (String, Bool)? }).first {
                return refused
            }
            return ("cannot resolve host name", true)
        case let io as IOError: return explain(errno: io.errnoCode)
        case let channel as ChannelError:
            switch channel {
            case .connectTimeout: return ("timed out connecting", true)
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
                return ("the service closed the connection", true)
            default: return ("connection error: \(channel)", true)
            }
        case let tls as NIOSSLError:
            if case .handshakeFailed(let inner) = tls {
                let text = "\(inner)"
                // A certificate that does not verify is the service's setup or the wrong host, not a blip.
                return ("TLS handshake failed: \(text)", !text.contains("CERTIFICATE_VERIFY_FAILED"))
            }
            return ("TLS error: \(tls)", true)
        case let tls as NIOSSLExtraError:
            return ("TLS error: \(tls)", tls != .failedToValidateHostname && tls != .serverHostnameImpossibleToMatch)
        case is SocketAddressError: return ("cannot resolve host name", true)
        default: return ("\(error)", true)
        }
    }

    private static func explain(_ client: HTTPClientError) -> (String, Bool) {
        switch client {
        case .deadlineExceeded, .readTimeout, .writeTimeout: return ("timed out waiting for the service", true)
        case .connectTimeout: return ("timed out connecting", true)
        case .tlsHandshakeTimeout: return ("timed out in the TLS handshake", true)
        case .remoteConnectionClosed: return ("the service closed the connection", true)
        case .invalidURL, .emptyHost, .emptyScheme: return ("invalid URL", false)
        case .cancelled: return ("cancelled", true)
        default: return ("HTTP client error: \(client.shortDescription)", true)
        }
    }

    private static func explain(errno code: Int32) -> (String, Bool) {
        switch code {
        case ECONNREFUSED: return ("connection refused", true)
        case ECONNRESET, EPIPE: return ("the service reset the connection", true)
        case ENETUNREACH, EHOSTUNREACH: return ("network unreachable", true)
        case ETIMEDOUT: return ("timed out connecting", true)
        default: return ("network error: \(String(cString: strerror(code)))", true)
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

public enum PushCoreVersion {
    public static let current = "0.1.0"
}
