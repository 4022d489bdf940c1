import Foundation
import HTTPTypes
import Hummingbird
import JSONText
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The MCP endpoint of Streamable HTTP, for both eras:
/// - 2026-07-28 (basic/transports/streamable-http): every POST stands alone, `MCP-Protocol-Version`,
///   `Mcp-Method` and `Mcp-Name` checked against the body; GET and DELETE are 405.
/// - 2025-03-26 to 2025-11-25: `initialize` opens a session (`Mcp-Session-Id`), later POSTs name it,
///   GET opens the session's stream, DELETE ends it, an unknown session is 404. With `stateless`,
///   no session: each POST stands alone at the revision its `MCP-Protocol-Version` names.
struct StreamableHTTPEndpoint: Sendable {
    let server: MCPServer
    let sessions: SessionStore
    let stateless: Bool

    func post(_ request: Request) async -> Response {
        var request = request
        // The body was read (within the limit) by BodyLimitMiddleware.
        let body = (try? await request.collectBody(upTo: .max)) ?? ByteBuffer()
        let message: OrderedJSON
        do {
            message = try OrderedJSON.parse(body.readableBytesView)
        } catch {
            return jsonResponse(.badRequest, MCPConnection.parseError(error))
        }
        let headerVersion = request.headers[.mcpProtocolVersion]
        if headerVersion.flatMap(ProtocolRevision.init(rawValue:))?.isStateless == true || hasStatelessEnvelope(message) {
            return await postStateless(message, headers: request.headers)
        }
        if let headerVersion, ProtocolRevision(rawValue: headerVersion) == nil {
            // 2025-06-18 basic/transports "Protocol Version Header": an invalid or unsupported version is 400.
            return jsonRPCErrorResponse(400, MCPConnection.unsupported(requested: headerVersion, "not a version this server speaks"))
        }
        if stateless {
            let isInitialize = message["method"] == "initialize"
            let revision = headerVersion.flatMap(ProtocolRevision.init(rawValue:)) ?? .assumedWithoutHeader
            let connection = MCPConnection(server: server, era: isInitialize ? .undecided : .handshake(revision))
            return await answer(message, on: connection, accept: request.headers[.accept], sessionID: nil)
        }
        if let id = request.headers[.mcpSessionID] {
            guard let connection = await sessions.connection(id) else { return unknownSession }
            return await answer(message, on: connection, accept: request.headers[.accept], sessionID: nil)
        }
        guard message["method"] == "initialize" else {
            return jsonRPCErrorResponse(400, .invalidRequest("missing the Mcp-Session-Id header (send initialize first to open a session)"))
        }
        let connection = MCPConnection(server: server)
        let id = SessionStore.newID()
        let response = await answer(message, on: connection, accept: request.headers[.accept], sessionID: id)
        if case .handshake = connection.era { await sessions.open(id, connection) }
        return response
    }

    /// GET opens the session's stream for messages the server starts (2025-x); this server starts
    /// none, so it carries keep-alive comments until the session ends.
    func get(_ request: Request) async -> Response {
        guard !stateless, let id = request.headers[.mcpSessionID] else {
            return methodNotAllowed
        }
        guard request.headers[.accept]?.contains("text/event-stream") == true else {
            return plainResponse(.notAcceptable, "Not Acceptable: the session stream is text/event-stream")
        }
        guard let ended = await sessions.stream(id) else { return unknownSession }
        return Response(
            status: .ok, headers: Self.streamHeaders,
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ": stream open\n\n"))
                var seconds = 0
                while !ended.fired {
                    try await Task.sleep(for: .seconds(1))
                    seconds += 1
                    // A comment line now and then keeps proxies and idle timers from closing a quiet stream.
                    if seconds % 15 == 0 { try await writer.write(ByteBuffer(string: ":\n\n")) }
                }
                try await writer.finish(nil)
            })
    }

    func delete(_ request: Request) async -> Response {
        guard !stateless, let id = request.headers[.mcpSessionID] else {
            return methodNotAllowed
        }
        return await sessions.close(id) ? Response(status: .ok) : unknownSession
    }

    /// 2026-07-28 streamable-http "Earlier Streamable HTTP Revisions": GET and DELETE without a session.
    private var methodNotAllowed: Response { Response(status: .methodNotAllowed, headers: [.allow: "POST"]) }

    private var unknownSession: Response {
        jsonRPCErrorResponse(404, .invalidRequest("session not found or expired; initialize again"))
    }

    /// 2026-07-28: the request's version is in its `_meta`.
    private func hasStatelessEnvelope(_ message: OrderedJSON) -> Bool {
        guard case .string(let version) = RequestMeta.value(RequestMeta.protocolVersion, in: message["params"]) else { return false }
        return ProtocolRevision(rawValue: version)?.isStateless ?? true
    }

    /// 2026-07-28 streamable-http "Server Validation" and "Protocol Version Header".
    private func postStateless(_ message: OrderedJSON, headers: HTTPFields) async -> Response {
        guard case .object = message else {
            return jsonRPCErrorResponse(400, .invalidRequest("the body must be one JSON-RPC message (no batches in 2026-07-28)"))
        }
        let id = message["id"].flatMap(RequestID.init)
        let mismatch = { (text: String) in jsonRPCErrorResponse(400, MCPError(code: MCPError.headerMismatch, "Header mismatch: \(text)"), id: id) }
        let method = message["method"]?.stringValue
        guard let version = headers[.mcpProtocolVersion] else { return mismatch("the MCP-Protocol-Version header is required") }
        let bodyVersion = RequestMeta.value(RequestMeta.protocolVersion, in: message["params"])?.stringValue
        if let bodyVersion, bodyVersion != version {
            return mismatch("MCP-Protocol-Version \(version) does not match _meta's \(bodyVersion)")
        }
        if bodyVersion == nil, id != nil {
            return mismatch("MCP-Protocol-Version is \(version) but params._meta has no io.modelcontextprotocol/protocolVersion")
        }
        if let method {
            guard let headerMethod = headers[.mcpMethod] else { return mismatch("the Mcp-Method header is required") }
            guard headerMethod == method else { return mismatch("Mcp-Method \"\(headerMethod)\" does not match the body's \"\(method)\"") }
            if let nameField = ["tools/call": "name", "prompts/get": "name", "resources/read": "uri"][method],
                case .string(let bodyName) = message["params"]?[nameField]
            {
                guard let raw = headers[.mcpName] else { return mismatch("the Mcp-Name header is required for \(method)") }
                guard let name = Self.decodeHeaderValue(raw) else { return mismatch("Mcp-Name is not a valid header value") }
                guard name == bodyName else { return mismatch("Mcp-Name \"\(raw)\" does not match params.\(nameField)") }
            }
        }
        guard id != nil else {
            // A notification: accepted, nothing to answer (2026-07-28 defines none over HTTP).
            return Response(status: .accepted)
        }
        let connection = MCPConnection(server: server, era: .stateless)
        return await answer(message, on: connection, accept: headers[.accept], sessionID: nil)
    }

    /// 2026-07-28 streamable-http "Value Encoding": `=?base64?...?=` carries what is not plain ASCII.
    static func decodeHeaderValue(_ value: String) -> String? {
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.count >= 11 else {
            return value.unicodeScalars.allSatisfy { $0 == "\t" || (0x20...0x7E).contains($0.value) } ? value : nil
        }
        let encoded = value.dropFirst(9).dropLast(2)
        guard let data = Data(base64Encoded: String(encoded)) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// Runs the message and answers: 202 for notifications only, else JSON, or SSE when the caller
    /// asked for progress and accepts a stream (progress notifications then go out as they happen).
    private func answer(_ message: OrderedJSON, on connection: MCPConnection, accept: String?, sessionID: String?) async -> Response {
        var headers: HTTPFields = [:]
        if let sessionID { headers[.mcpSessionID] = sessionID }
        guard Self.holdsRequest(message) else {
            await connection.handle(message, send: { _ in })
            return Response(status: .accepted, headers: headers)
        }
        if accept?.contains("text/event-stream") == true, Self.asksForProgress(message) {
            headers.append(contentsOf: Self.streamHeaders)
            let (events, continuation) = AsyncStream.makeStream(of: OrderedJSON.self)
            let work = Task {
                await connection.handle(message, send: { continuation.yield($0) })
                continuation.finish()
            }
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    // The client closing the stream cancels the request (2026-07-28 "Cancellation").
                    try await withTaskCancellationHandler {
                        do {
                            for await event in events {
                                try await writer.write(ByteBuffer(string: "event: message\ndata: \(event.text)\n\n"))
                            }
                            try await writer.finish(nil)
                        } catch {
                            work.cancel()
                            throw error
                        }
                    } onCancel: {
                        work.cancel()
                    }
                })
        }
        let answers = Mutex<[OrderedJSON]>([])
        await connection.handle(message, send: { reply in if reply["method"] == nil { answers.withLock { $0.append(reply) } } })
        guard let answer = answers.withLock({ $0.first }) else { return Response(status: .accepted, headers: headers) }
        return jsonResponse(Self.status(of: answer), answer, headers: headers)
    }

    /// 2026-07-28 "Protocol Version Header": an unknown method is 404, an unsupported version or a
    /// malformed request 400; every other answer, errors included, is a 200 JSON-RPC response.
    static func status(of answer: OrderedJSON) -> HTTPResponse.Status {
        guard case .int(let code) = answer["error"]?["code"] else { return .ok }
        switch code {
        case -32601: return .notFound
        case -32700, -32600, MCPError.unsupportedProtocolVersion, MCPError.headerMismatch: return .badRequest
        default: return .ok
        }
    }

    static func holdsRequest(_ message: OrderedJSON) -> Bool {
        switch message {
        case .array(let members): return members.contains(where: holdsRequest)
        case .object:
            // A notification (a method, no id) and a response (no method) get no answer; all else does.
            if message["method"] != nil { return message["id"] != nil }
            return message["result"] == nil && message["error"] == nil
        default: return true
        }
    }

    static func asksForProgress(_ message: OrderedJSON) -> Bool {
        if case .array(let members) = message { return members.contains(where: asksForProgress) }
        return RequestMeta.value("progressToken", in: message["params"]) != nil
    }

    static let streamHeaders: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", .xAccelBuffering: "no"]
}

/// The 2025-x sessions: their connections, last use, and a signal that ends their GET streams.
actor SessionStore {
    private struct Session {
        let connection: MCPConnection
        let ended = Signal()
        var lastUsed = ContinuousClock.now
    }

    private var sessions: [String: Session] = [:]
    let idleTimeout: Duration
    let maximum: Int
    let logger: Logger

    init(idleTimeout: Duration, maximum: Int, logger: Logger) {
        self.idleTimeout = idleTimeout
        self.maximum = maximum
        self.logger = logger
    }

    /// 128 random bits (the system's cryptographic generator): a session id is as good as a key.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(16) }.joined()
    }

    func open(_ id: String, _ connection: MCPConnection) {
        if sessions.count >= maximum, let (oldest, session) = sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            sessions[oldest] = nil
            session.ended.fire()
            logger.warning("session limit reached (MCP_PUSH_HTTP_MAX_SESSIONS=\(maximum)): closed the one used least recently")
        }
        sessions[id] = Session(connection: connection)
        logger.info("session opened", metadata: ["sessions": "\(sessions.count)"])
    }

    func connection(_ id: String) -> MCPConnection? {
        sessions[id]?.lastUsed = .now
        return sessions[id]?.connection
    }

    func stream(_ id: String) -> Signal? {
        sessions[id]?.lastUsed = .now
        return sessions[id]?.ended
    }

    func close(_ id: String) -> Bool {
        guard let session = sessions.removeValue(forKey: id) else { return false }
        session.ended.fire()
        return true
    }

    func expireIdle() {
        let now = ContinuousClock.now
        for (id, session) in sessions where now - session.lastUsed > idleTimeout {
            sessions[id] = nil
            session.ended.fire()
            logger.info("session expired", metadata: ["idle_s": "\((now - session.lastUsed).components.seconds)"])
        }
    }

    func closeAll() {
        for session in sessions.values { session.ended.fire() }
        sessions.removeAll()
    }
}

/// Expires idle sessions while the server runs; on shutdown ends every session, so that open
/// GET streams close and the server's drain can finish.
struct SessionJanitor: Service {
    let sessions: SessionStore

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: min(sessions.idleTimeout, .seconds(30)))
                await sessions.expireIdle()
            }
        }
        await sessions.closeAll()
    }
}

/// Set once, when a session ends; its GET streams look at it between keep-alives.
final class Signal: Sendable {
    private let state = Mutex(false)

    func fire() { state.withLock { $0 = true } }

    var fired: Bool { state.withLock { $0 } }
}

extension HTTPField.Name {
    static let mcpSessionID = Self("Mcp-Session-Id")!
    static let mcpProtocolVersion = Self("MCP-Protocol-Version")!
    static let mcpMethod = Self("Mcp-Method")!
    static let mcpName = Self("Mcp-Name")!
    static let xAccelBuffering = Self("X-Accel-Buffering")!
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
