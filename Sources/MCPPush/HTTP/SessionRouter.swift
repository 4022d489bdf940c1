import Foundation
import Logging
import MCP

/// Streamable HTTP sessions: an `initialize` without a session id opens one (its own SDK
/// server and transport); later requests go to it by `Mcp-Session-Id`; unknown ids get 404.
/// In stateless mode each request gets a server of its own.
actor SessionRouter {
    private struct Session {
        let server: Server
        let transport: StatefulHTTPServerTransport
        var lastUsed: ContinuousClock.Instant
    }

    private let pushServer: PushServer
    private let options: HTTPServingOptions
    private let logger: Logger
    private var sessions: [String: Session] = [:]

    init(server: PushServer, options: HTTPServingOptions, logger: Logger) {
        self.pushServer = server
        self.options = options
        self.logger = logger
    }

    /// Origin and bearer are checked before; this pipeline covers the protocol's own rules.
    private static var validation: StandardValidationPipeline {
        StandardValidationPipeline(validators: [
            AcceptHeaderValidator(mode: .sseRequired), ContentTypeValidator(), ProtocolVersionValidator(), SessionValidator(),
        ])
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        if options.stateless { return await handleStateless(request) }
        let sessionID = request.header(HTTPHeaderName.sessionID)
        if let sessionID, var session = sessions[sessionID] {
            session.lastUsed = .now
            sessions[sessionID] = session
            let response = await session.transport.handleRequest(request)
            if request.method.uppercased() == "DELETE" && response.statusCode == 200 {
                sessions[sessionID] = nil
                await session.server.stop()
            }
            return response
        }
        if sessionID != nil {
            return .error(statusCode: 404, .invalidRequest("Not Found: session not found or expired; initialize again"))
        }
        guard request.method.uppercased() == "POST", let body = request.body else {
            return .error(statusCode: 400, .invalidRequest("Bad Request: missing \(HTTPHeaderName.sessionID) header"))
        }
        guard let message = try? JSONSerialization.jsonObject(with: body) else {
            return .error(statusCode: 400, .parseError("Parse error: the body is not JSON"))
        }
        guard (message as? [String: Any])?["method"] as? String == "initialize" else {
            return .error(statusCode: 400, .invalidRequest("Bad Request: missing \(HTTPHeaderName.sessionID) header (send initialize first)"))
        }
        return await open(request)
    }

    private struct FixedSessionID: SessionIDGenerator {
        let id: String
        func generateSessionID() -> String { id }
    }

    private func open(_ request: HTTPRequest) async -> HTTPResponse {
        let id = UUID().uuidString
        let transport = StatefulHTTPServerTransport(
            sessionIDGenerator: FixedSessionID(id: id), validationPipeline: Self.validation, logger: logger)
        let server = await pushServer.makeServer()
        do {
            try await server.start(transport: transport)
        } catch {
            return .error(statusCode: 500, .internalError("could not open a session: \(error)"))
        }
        sessions[id] = Session(server: server, transport: transport, lastUsed: .now)
        let response = await transport.handleRequest(request)
        if case .error = response {
            sessions[id] = nil
            await server.stop()
        } else {
            logger.info("session opened", metadata: ["sessions": "\(sessions.count)"])
        }
        return response
    }

    /// Stateless clients each number their requests from 1, so concurrent requests share ids, and the
    /// SDK pairs answers with requests by id: each request gets a server and transport of its own, so
    /// its answer can only be its own.
    private func handleStateless(_ request: HTTPRequest) async -> HTTPResponse {
        let transport = StatelessHTTPServerTransport(
            validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
            ]),
            logger: logger)
        let server = await pushServer.makeServer()
        do {
            try await server.start(transport: transport)
        } catch {
            return .error(statusCode: 500, .internalError("could not start: \(error)"))
        }
        let response = await transport.handleRequest(request)
        await server.stop()
        return response
    }

    /// Closes sessions idle for longer than the configured time, until cancelled.
    func expireIdleSessions() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: min(options.sessionIdleTimeout, .seconds(30)))
            let now = ContinuousClock.now
            for (id, session) in sessions where now - session.lastUsed > options.sessionIdleTimeout {
                sessions[id] = nil
                await session.server.stop()
                logger.info("session expired", metadata: ["idle_s": "\((now - session.lastUsed).components.seconds)"])
            }
        }
    }

    func closeAll() async {
        for session in sessions.values { await session.server.stop() }
        sessions.removeAll()
    }
}
