import HTTPTypes
import Hummingbird
import JSONText
import Logging
import NIOCore

/// DNS rebinding (every Streamable HTTP revision, "Security Warning": servers MUST validate Origin).
/// A page on attacker.example whose name now resolves to 127.0.0.1 reaches us with its own name in
/// Host and Origin. Bound to loopback, only loopback names (and `allowedHosts`) are ours; a browser
/// origin must be loopback (when we listen on loopback) or listed.
public struct HostAndOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let options: HTTPServingOptions

    public init(options: HTTPServingOptions) { self.options = options }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = refusal(headers: request.headers, authority: request.head.authority) { return refusal }
        return try await next(request, context)
    }

    /// `authority` is the request's Host (HTTP/1's Host header arrives as the authority pseudo-header).
    func refusal(headers: HTTPFields, authority: String?) -> Response? {
        if HTTPServingOptions.isLoopback(options.host) {
            let host = HTTPServingOptions.hostName(ofAuthority: authority ?? "").lowercased()
            guard HTTPServingOptions.isLoopback(host) || options.allowedHosts.contains(host) else {
                return plainResponse(.forbidden, "Forbidden: Host \"\(host)\" is not this server (a loopback address; MCP_PUSH_ALLOWED_HOSTS adds names)")
            }
        }
        if let origin = headers[.origin]?.lowercased(), !isAllowed(origin: origin) {
            return plainResponse(.forbidden, "Forbidden: origin \(origin) is not allowed (MCP_PUSH_ALLOWED_ORIGINS)")
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
}

/// `Authorization: Bearer <token>` on every request, compared in constant time.
public struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    public init(token: String) { self.token = token }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let presented = request.headers[.authorization].flatMap { value -> String? in
            let parts = value.split(separator: " ", maxSplits: 1)
            return parts.count == 2 && parts[0].lowercased() == "bearer" ? String(parts[1]) : nil
        }
        guard let presented, Self.constantTimeEquals(presented, token) else {
            var response = plainResponse(.unauthorized, "Unauthorized: send Authorization: Bearer <MCP_PUSH_HTTP_TOKEN>")
            response.headers[.wwwAuthenticate] = #"Bearer realm="mcp-push""#
            return response
        }
        return try await next(request, context)
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            difference |= (index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0)
        }
        return difference == 0
    }
}

/// Reads the body up to a limit: a declared length over it is refused at once (waiting for ten
/// gigabytes that will be refused anyway holds the connection), a streamed one when it goes over.
public struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maximumBytes: Int

    public init(maximumBytes: Int) { self.maximumBytes = maximumBytes }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        let tooLarge = { jsonRPCErrorResponse(413, .invalidRequest("the body is larger than \(maximumBytes) bytes (MCP_PUSH_HTTP_MAX_BODY)")) }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumBytes {
            var refusal = tooLarge()
            refusal.headers[.connection] = "close"
            return refusal
        }
        do {
            _ = try await request.collectBody(upTo: maximumBytes)
        } catch {
            return tooLarge()
        }
        return try await next(request, context)
    }
}

/// One log line per request: method, path, status and time (never headers: they carry the token).
public struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    let secretPathPrefixes: [String]

    public init(logger: Logger, secretPathPrefixes: [String] = []) {
        self.logger = logger
        self.secretPathPrefixes = secretPathPrefixes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let clock = ContinuousClock()
        let started = clock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            log(request, status: error.status, since: started)
            throw error
        }
        log(request, status: response.status, since: started)
        return response
    }

    private func log(_ request: Request, status: HTTPResponse.Status, since started: ContinuousClock.Instant) {
        let milliseconds = Int((ContinuousClock.now - started) / .milliseconds(1))
        var path = request.uri.path
        if let prefix = secretPathPrefixes.first(where: { path.hasPrefix($0) }) { path = prefix + "…" }
        logger.info(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "path": "\(path)", "status": "\(status.code)", "ms": "\(milliseconds)",
            ])
    }
}

func plainResponse(_ status: HTTPResponse.Status, _ text: String) -> Response {
    Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
}

/// An HTTP error whose body is a JSON-RPC error with id null (the transports' "MAY comprise a JSON-RPC error").
func jsonRPCErrorResponse(_ status: Int, _ error: MCPError, id: RequestID? = nil) -> Response {
    jsonResponse(.init(code: status), Outgoing.error(error, id: id))
}

func jsonResponse(_ status: HTTPResponse.Status, _ message: OrderedJSON, headers: HTTPFields = [:]) -> Response {
    var fields = headers
    fields[.contentType] = "application/json"
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: message.bytes)))
}
