import ArgumentParser
import Logging
import MCPPush
import PushCore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve MCP (the default when no subcommand is given).",
        discussion: """
            Speaks MCP over stdin/stdout: only protocol messages reach stdout, logs go to stderr \
            (MCP_PUSH_LOG_LEVEL=debug|info|warning|error, default warning). The server runs until the \
            client closes stdin.

            Examples:
              mcp-push
              mcp-push serve
              mcp-push --transport stdio
              claude mcp add mcp-push -- /path/to/mcp-push --transport stdio
            """)

    enum Transport: String, ExpressibleByArgument, CaseIterable {
        case stdio
    }

    @Option(help: "The MCP transport. (stdio)")
    var transport: Transport = .stdio

    func run() async throws {
        let runtime = try Runtime.start(worksOutbox: true)
        // Queued deliveries (this process's and those earlier processes left) go out in the background.
        let outboxWorker = Task { [notifier = runtime.notifier] in await notifier.runOutboxWorker() }
        let server = PushServer(notifier: runtime.notifier)
        let configured = runtime.notifier.setup.configured.map(\.id)
        runtime.logger.info("serving MCP over stdio", metadata: ["channels": "\(configured.joined(separator: ","))"])
        do {
            // In-flight calls end within the channel timeout; allow a little more to answer them.
            let drain = runtime.notifier.dispatcher.settings.timeout + .seconds(2)
            try await server.runStdio(logger: Logger(label: "mcp-push.transport"), drainTimeout: drain)
        } catch {
            runtime.logger.error("MCP server stopped: \(error)")
            outboxWorker.cancel()
            await outboxWorker.value
            await runtime.notifier.shutdown()
            throw ExitCode.failure
        }
        outboxWorker.cancel()
        await outboxWorker.value
        await runtime.notifier.shutdown()
    }
}
