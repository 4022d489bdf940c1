import Approvals
import ArgumentParser
import Logging
import MCPPush
import MCPProtocol
import PushCore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve MCP (the default when no subcommand is given).",
        discussion: """
            With stdio (the default) it speaks MCP over stdin/stdout: only protocol messages reach stdout, \
            logs go to stderr (MCP_PUSH_LOG_LEVEL=debug|info|warning|error, default warning), and it runs until \
            the client closes stdin.

            With http it serves MCP Streamable HTTP on --host:--port at --path until SIGINT or SIGTERM: \
            protocol 2026-07-28 requests stand alone; clients of the 2025 revisions get sessions \
            (Mcp-Session-Id) unless --stateless. It binds 127.0.0.1 by default; any other address \
            needs MCP_PUSH_HTTP_TOKEN (clients send Authorization: Bearer <token>). Browser origins other \
            than loopback need MCP_PUSH_ALLOWED_ORIGINS. GET /healthz answers without auth.

            Examples:
              mcp-push
              mcp-push serve
              mcp-push --transport stdio
              claude mcp add mcp-push -- /path/to/mcp-push --transport stdio
              mcp-push serve --transport http --port 8765
              MCP_PUSH_HTTP_TOKEN=$(openssl rand -hex 32) mcp-push serve --transport http --host 0.0.0.0
            """)

    enum Transport: String, ExpressibleByArgument, CaseIterable {
        case stdio
        case http
    }

    @Option(help: "The MCP transport: stdio or http (Streamable HTTP).")
    var transport: Transport = .stdio

    @Option(help: "HTTP: the address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "HTTP: the port (0 picks a free one and logs it).")
    var port = 8765

    @Option(help: "HTTP: the MCP endpoint's path.")
    var path = "/mcp"

    @Flag(help: "HTTP: no sessions for 2025-revision clients either; every request stands alone.")
    var stateless = false

    func run() async throws {
        if transport == .http {
            try await serveHTTP()
        } else {
            try await Self.serveStdio()
        }
    }

    /// Whether `arguments` ask for nothing but the stdio server, the way agents start
    /// mcp-push on every session (`mcp-push`, `mcp-push --transport stdio`, `mcp-push serve`):
    /// those skip argument parsing, whose reflection is a large part of start-up.
    static func isPlainStdio(_ arguments: [String]) -> Bool {
        let rest = arguments.first == "serve" ? Array(arguments.dropFirst()) : arguments
        return rest.isEmpty || rest == ["--transport", "stdio"] || rest == ["--transport=stdio"]
    }

    /// Serves MCP over stdin/stdout until the client closes stdin.
    static func serveStdio() async throws {
        let runtime = try Runtime.start(defaultLogLevel: .warning, worksOutbox: true)
        let configured = runtime.notifier.configuredChannels
        runtime.logger.info("serving MCP over stdio", metadata: ["channels": "\(configured.joined(separator: ","))"])
        // In-flight calls end within the channel timeout; allow a little more to answer them.
        let drain = runtime.notifier.attemptTimeout + .seconds(2)
        try await serving(runtime, transport: "stdio") { server in
            try await server.runStdio(logger: Logger(label: "mcp-push.transport"), drainTimeout: drain)
        }
    }

    private func serveHTTP() async throws {
        // Each request is logged at info level (MCP_PUSH_LOG_LEVEL still wins).
        let runtime = try Runtime.start(defaultLogLevel: .info, worksOutbox: true)
        let options: HTTPServingOptions
        do {
            options = try HTTPServingOptions.from(configuration: runtime.configuration, host: host, port: port, path: path, stateless: stateless)
        } catch {
            Output.writeError("mcp-push: \(error.description)")
            await runtime.notifier.shutdown()
            throw ExitCode(2)
        }
        let host = self.host
        try await Self.serving(runtime, transport: "HTTP") { server in
            try await server.runHTTP(options, logger: Logger(label: "mcp-push.http")) { port in
                // One line on stderr so scripts (and tests) know where to connect.
                Output.writeError("mcp-push: serving MCP on http://\(host):\(port)\(options.path)")
            }
        }
    }

    /// Runs `serve` while the outbox is worked in the background (deliveries this process or
    /// earlier ones queued), then stops the worker and closes connections, whatever happened.
    private static func serving(
        _ runtime: Runtime, transport: String, _ serve: (PushServer) async throws -> Void
    ) async throws {
        if !runtime.notifier.configuredChannels.isEmpty {
            // The first notification's one-time costs, paid ahead on the other processor (docs/PERFORMANCE.md).
            _ = StartupAffinity.runBesidePinned { HTTPService.rehearseFirstRequest() }
        }
        let outboxWorker = Task { [notifier = runtime.notifier] in await notifier.runOutboxWorker() }
        StartupPages.release()
        var failed = false
        do {
            try await serve(PushServer(notifier: runtime.notifier, approver: try Approver(configuration: runtime.configuration, notifier: runtime.notifier, logger: runtime.logger)))
        } catch {
            runtime.logger.error("MCP server over \(transport) stopped: \(error)")
            failed = true
        }
        outboxWorker.cancel()
        await outboxWorker.value
        await runtime.notifier.shutdown()
        if failed { throw ExitCode.failure }
    }
}
