import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import MCP
import NIOCore
import PushCore

/// Settings of `mcp-push serve --transport http`.
public struct HTTPServingOptions: Sendable {
    public var host: String
    public var port: Int
    public var path: String
    public var stateless: Bool
    /// `MCP_PUSH_HTTP_TOKEN`: every MCP request must carry `Authorization: Bearer <token>`.
    public var token: String?
    /// `MCP_PUSH_ALLOWED_ORIGINS`: browser origins allowed besides loopback ones.
    public var allowedOrigins: Set<String>
    /// `MCP_PUSH_ALLOWED_HOSTS`: names besides loopback ones a client may put in `Host` (a reverse proxy's).
    public var allowedHosts: Set<String> = []
    public var maximumBodyBytes: Int
    public var sessionIdleTimeout: Duration
    /// `MCP_PUSH_HTTP_IDLE_TIMEOUT`: a connection that has not sent a whole request head by then, or
    /// idles between requests that long, is closed (a half-sent request must not hold a descriptor).
    /// A request being answered is never cut.
    public var connectionIdleTimeout: Duration = .seconds(10)
    /// `MCP_PUSH_HTTP_MAX_CONNECTIONS`: connections open at once; more wait to be accepted.
    public var maximumConnections = 512

    public init(
        host: String, port: Int, path: String, stateless: Bool, token: String?, allowedOrigins: Set<String>,
        maximumBodyBytes: Int, sessionIdleTimeout: Duration
    ) {
        self.host = host
        self.port = port
        self.path = path
        self.stateless = stateless
        self.token = token
        self.allowedOrigins = allowedOrigins
        self.maximumBodyBytes = maximumBodyBytes
        self.sessionIdleTimeout = sessionIdleTimeout
    }

    /// Reads the HTTP settings; binding beyond loopback without a token is refused.
    public static func from(
        configuration: Configuration, host: String, port: Int, path: String, stateless: Bool
    ) throws(ConfigurationError) -> HTTPServingOptions {
        let token = configuration["MCP_PUSH_HTTP_TOKEN"]
        if token == nil && !isLoopback(host) {
            throw .invalid(
                "MCP_PUSH_HTTP_TOKEN",
                "refusing to listen on \(host) without a token: anyone who can reach the port could send notifications as you. Set MCP_PUSH_HTTP_TOKEN (e.g. `export MCP_PUSH_HTTP_TOKEN=$(openssl rand -hex 32)`) or bind 127.0.0.1")
        }
        guard path.hasPrefix("/") else { throw .invalid("--path", "must start with /, got \"\(path)\"") }
        var options = HTTPServingOptions(
            host: host, port: port, path: path, stateless: stateless, token: token,
            allowedOrigins: Set(configuration.list("MCP_PUSH_ALLOWED_ORIGINS")?.map { $0.lowercased().trimmingSuffix("/") } ?? []),
            maximumBodyBytes: try configuration.int("MCP_PUSH_HTTP_MAX_BODY", in: 1024...(64 << 20)) ?? (1 << 20),
            sessionIdleTimeout: try configuration.seconds("MCP_PUSH_HTTP_SESSION_IDLE", in: 1...604_800) ?? .seconds(1800))
        options.allowedHosts = Set(configuration.list("MCP_PUSH_ALLOWED_HOSTS")?.map { $0.lowercased() } ?? [])
        options.connectionIdleTimeout = try configuration.seconds("MCP_PUSH_HTTP_IDLE_TIMEOUT", in: 1...3600) ?? options.connectionIdleTimeout
        options.maximumConnections = try configuration.int("MCP_PUSH_HTTP_MAX_CONNECTIONS", in: 1...65_536) ?? options.maximumConnections
        return options
    }

    /// `localhost`, `::1` (bracketed or not), or an IPv4 literal in 127.0.0.0/8: four decimal octets
    /// up to 255, nothing else. A name that merely starts with `127.` (`127.attacker.example`,
    /// `127.0.0.1.nip.io`) resolves wherever its owner likes: that is how DNS rebinding gets in.
    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return false }
        for octet in octets {
            guard (1...3).contains(octet.count), octet.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(octet), value <= 255
            else { return false }
        }
        return octets[0] == "127"
    }

    /// The host of a `Host` header value or an origin's authority, without its port.
    static func hostName(ofAuthority authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            return String(authority[...end])
        }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? "")
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

extension PushServer {
    /// Serves MCP over Streamable HTTP until SIGINT or SIGTERM, then lets in-flight calls finish.
    /// `onListening` receives the bound port (useful with port 0).
    public func runHTTP(
        _ options: HTTPServingOptions, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let router = SessionRouter(server: self, options: options, logger: logger)
        let guardrail = HTTPGuard(options: options)
        let configuredChannels = notifier.configuredChannels.count
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let clock = ContinuousClock()
            let started = clock.now
            let response = await Self.respond(to: request, router: router, guardrail: guardrail, options: options, channels: configuredChannels)
            logger.info(
                "request",
                metadata: [
                    "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                    "ms": "\((clock.now - started).milliseconds)",
                ])
            return response
        }
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(idleTimeout: TimeAmount(options.connectionIdleTimeout))),
            configuration: .init(
                address: .hostname(options.host, port: options.port), serverName: "mcp-push",
                availableConnectionsDelegate: MaximumAvailableConnections(options.maximumConnections)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? options.port) },
            logger: logger)
        let cleanup = Task { await router.expireIdleSessions() }
        defer { cleanup.cancel() }
        // Hummingbird runs under swift-service-lifecycle: SIGINT/SIGTERM stop accepting and drain open requests.
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        await router.closeAll()
    }

    static func respond(
        to request: Request, router: SessionRouter, guardrail: HTTPGuard, options: HTTPServingOptions, channels: Int
    ) async -> Response {
        var request = request
        if request.uri.path == "/healthz" && request.method == .get {
            let body = #"{"status":"ok","name":"mcp-push","version":"\#(PushCoreVersion.current)","channels_configured":\#(channels)}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        guard request.uri.path == options.path else {
            return HTTPGuard.plain(.notFound, "Not Found: the MCP endpoint is \(options.path)")
        }
        if let refusal = guardrail.check(request.headers, authority: request.head.authority) { return refusal }
        let tooLarge = { HTTPGuard.jsonRPCError(413, code: -32600, "Request body larger than \(options.maximumBodyBytes) bytes (MCP_PUSH_HTTP_MAX_BODY)") }
        // Refused from its header, at once: waiting for ten gigabytes that will be refused anyway holds the connection.
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > options.maximumBodyBytes {
            var refusal = tooLarge()
            refusal.headers[.connection] = "close"
            return refusal
        }
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: options.maximumBodyBytes)
        } catch {
            return tooLarge()
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        let data = Data(body.readableBytesView)
        let mcpRequest = MCP.HTTPRequest(
            method: request.method.rawValue, headers: headers, body: data.isEmpty ? nil : data, path: request.uri.path)
        return HTTPGuard.response(await router.handle(mcpRequest))
    }
}

/// Origin and bearer checks, before any MCP processing.
struct HTTPGuard: Sendable {
    let options: HTTPServingOptions

    init(options: HTTPServingOptions) {
        self.options = options
    }

    /// `authority` is the request's Host (HTTP/1's Host header arrives as the authority pseudo-header).
    func check(_ headers: HTTPFields, authority: String?) -> Response? {
        // DNS rebinding: a page on attacker.example whose name now resolves to 127.0.0.1 reaches us with
        // its own name in Host. Bound to loopback, only loopback names (and MCP_PUSH_ALLOWED_HOSTS) are ours.
        if HTTPServingOptions.isLoopback(options.host) {
            let host = HTTPServingOptions.hostName(ofAuthority: authority ?? "").lowercased()
            guard HTTPServingOptions.isLoopback(host) || options.allowedHosts.contains(host) else {
                return Self.plain(.forbidden, "Forbidden: Host \"\(host)\" is not this server (a loopback address; MCP_PUSH_ALLOWED_HOSTS adds names)")
            }
        }
        // DNS-rebinding protection: a browser page may only call us from an allowed origin.
        if let origin = headers[.origin]?.lowercased(), !isAllowed(origin: origin) {
            return Self.plain(.forbidden, "Forbidden: origin \(origin) is not allowed (MCP_PUSH_ALLOWED_ORIGINS)")
        }
        if let token = options.token {
            let presented = headers[.authorization].flatMap { value -> String? in
                let parts = value.split(separator: " ", maxSplits: 1)
                return parts.count == 2 && parts[0].lowercased() == "bearer" ? String(parts[1]) : nil
            }
            guard let presented, Self.constantTimeEquals(presented, token) else {
                var response = Self.plain(.unauthorized, "Unauthorized: send Authorization: Bearer <MCP_PUSH_HTTP_TOKEN>")
                response.headers[.wwwAuthenticate] = #"Bearer realm="mcp-push""#
                return response
            }
        }
        return nil
    }

    func isAllowed(origin: String) -> Bool {
        if options.allowedOrigins.contains(origin) { return true }
        // Pages served from this machine, when we only listen on this machine.
        guard HTTPServingOptions.isLoopback(options.host), let schemeEnd = origin.range(of: "://") else { return false }
        let authority = origin[schemeEnd.upperBound...].split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        return HTTPServingOptions.isLoopback(HTTPServingOptions.hostName(ofAuthority: authority))
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            difference |= (index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0)
        }
        return difference == 0
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    static func jsonRPCError(_ status: Int, code: Int, _ message: String) -> Response {
        let text = OrderedJSON.object([
            ("jsonrpc", .string("2.0")), ("id", .null),
            ("error", .object([("code", .int(code)), ("message", .string(message))])),
        ]).text
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The SDK's transport-neutral response as a Hummingbird one (SSE streams stay streams).
    static func response(_ answer: MCP.HTTPResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        let status = HTTPResponse.Status(code: answer.statusCode)
        if case .stream(let stream, _) = answer {
            return Response(status: status, headers: fields, body: ResponseBody { writer in
                for try await chunk in stream { try await writer.write(ByteBuffer(data: chunk)) }
                try await writer.finish(nil)
            })
        }
        let body = answer.bodyData.map { ByteBuffer(data: $0) } ?? ByteBuffer()
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }
}
