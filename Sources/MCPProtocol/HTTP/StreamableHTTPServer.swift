import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// Serves MCP over Streamable HTTP on Hummingbird until SIGINT or SIGTERM, then lets requests
/// under way finish. Every request is logged; the MCP endpoint is guarded against DNS rebinding,
/// by the bearer token when one is set, and by the body limit.
public enum StreamableHTTPServer {
    public static func run(
        _ server: MCPServer, options: HTTPServingOptions, logger: Logger,
        health: @escaping @Sendable () -> String,
        routes: (Router<BasicRequestContext>) -> Void = { _ in },
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let sessions = SessionStore(idleTimeout: options.sessionIdleTimeout, maximum: options.maximumSessions, logger: logger)
        let endpoint = StreamableHTTPEndpoint(server: server, sessions: sessions, stateless: options.stateless)
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestLogMiddleware(logger: logger, secretPathPrefixes: options.secretPathPrefixes))
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: health())))
        }
        // The caller's own pages (the approval page), outside the MCP endpoint's guards.
        routes(router)
        let mcp = router.group(RouterPath(options.path))
        mcp.add(middleware: HostAndOriginMiddleware(options: options))
        if let token = options.token { mcp.add(middleware: BearerTokenMiddleware(token: token)) }
        mcp.add(middleware: BodyLimitMiddleware(maximumBytes: options.maximumBodyBytes))
        mcp.post { request, _ in await endpoint.post(request) }
        mcp.get { request, _ in await endpoint.get(request) }
        mcp.delete { request, _ in await endpoint.delete(request) }
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: TimeAmount(options.connectionIdleTimeout))),
            configuration: .init(
                address: .hostname(options.host, port: options.port), serverName: "mcp-push",
                availableConnectionsDelegate: MaximumAvailableConnections(options.maximumConnections)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? options.port) },
            logger: logger)
        // Shut down in reverse order: the janitor ends the sessions (and their GET streams) first,
        // then Hummingbird stops accepting and drains the requests under way.
        let group = ServiceGroup(
            configuration: .init(services: [app, SessionJanitor(sessions: sessions)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
