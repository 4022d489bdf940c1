import Approvals
import Logging
import MCPProtocol
import PushCore

extension HTTPServingOptions {
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
        options.maximumSessions = try configuration.int("MCP_PUSH_HTTP_MAX_SESSIONS", in: 1...1_000_000) ?? options.maximumSessions
        options.secretPathPrefixes = [ApprovalPages.pathPrefix]
        return options
    }
}


extension PushServer {
    /// Serves MCP over Streamable HTTP until SIGINT or SIGTERM, then lets in-flight calls finish.
    /// `onListening` receives the bound port (useful with port 0).
    public func runHTTP(
        _ options: HTTPServingOptions, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let health = #"{"status":"ok","name":"mcp-push","version":"\#(PushCoreVersion.current)","channels_configured":\#(notifier.configuredChannels.count)}"#
        // The answer page reads questions from the shared store, whichever process asked them.
        let pages = await ApprovalPages(notifier: notifier, logger: logger)
        try await StreamableHTTPServer.run(
            MCPServer(handler: self), options: options, logger: logger, health: { health },
            routes: { router in
                ApprovalRoutes.add(to: router, pages: pages)
                MetricsRoutes.add(to: router, notifier: notifier, token: options.token)
            }, onListening: onListening)
    }
}
