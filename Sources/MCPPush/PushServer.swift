import Logging
import MCP
import PushCore

/// The MCP face of mcp-push: tools, prompts and resources on a swift-sdk `Server`.
public struct PushServer: Sendable {
    public static let name = "mcp-push"
    public static let promptName = "mcp-push-guidelines"

    let notifier: Notifier

    public init(notifier: Notifier) {
        self.notifier = notifier
    }

    /// A configured SDK server; the caller starts it on a transport.
    public func makeServer() async -> Server {
        let server = Server(
            name: Self.name,
            version: PushCoreVersion.current,
            title: "mcp-push notifications",
            instructions: "Use notify_send to tell the user (on their phone or chat) that a long task finished, failed, or needs their input. Do not notify for task starts or routine progress. Full guidance: the mcp-push-guidelines prompt.",
            capabilities: .init(
                prompts: .init(listChanged: false), resources: .init(subscribe: false, listChanged: false),
                tools: .init(listChanged: false)))
        let notifier = self.notifier
        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(tools: PushTools.all)
        }
        let weakServer = WeakServer(server)
        await server.withMethodHandler(CallTool.self) { params in
            let progress = params._meta?.progressToken.map { token in
                CallProgress { progress, total, message in
                    let parameters = ProgressNotification.Parameters(progressToken: token, progress: progress, total: total, message: message)
                    try? await weakServer.server?.notify(ProgressNotification.message(parameters))
                }
            }
            return try await PushTools.call(params.name, arguments: params.arguments, notifier: notifier, progress: progress)
        }
        await server.withMethodHandler(ListPrompts.self) { _ in
            ListPrompts.Result(prompts: [Self.prompt])
        }
        await server.withMethodHandler(GetPrompt.self) { params in
            guard params.name == Self.promptName else {
                throw MCPError.invalidParams("Unknown prompt '\(params.name)'; this server has \(Self.promptName).")
            }
            return GetPrompt.Result(
                description: Self.prompt.description,
                messages: [.user(.text(text: Guidelines.prompt))])
        }
        await server.withMethodHandler(ListResources.self) { _ in
            ListResources.Result(resources: PushResources.fixed)
        }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in
            ListResourceTemplates.Result(templates: PushResources.templates)
        }
        await server.withMethodHandler(ReadResource.self) { params in
            try await PushResources.read(params.uri, notifier: notifier)
        }
        return server
    }

    static let prompt = Prompt(
        name: promptName,
        title: "When to notify the user",
        description: "Guidance for agents on when (and when not) to push a notification with mcp-push, and how to read the result.")

    /// Serves over stdin/stdout until the client closes stdin, then answers what is
    /// still in flight (bounded by `drainTimeout`) before returning.
    public func runStdio(logger: Logger, drainTimeout: Duration) async throws {
        let server = await makeServer()
        let transport = LineTransport(logger: logger)
        try await server.start(transport: transport)
        await server.waitUntilCompleted()
        await transport.drain(timeout: drainTimeout)
        // Calls still under way are interrupted: each delivery in flight is queued for the next
        // mcp-push process rather than cancelled into nothing.
        await notifier.interruptCalls()
        await server.stop()
    }
}

/// The server as its own handlers see it: weakly, so a closed HTTP session's server is freed.
private final class WeakServer: Sendable {
    nonisolated(unsafe) weak var server: Server?

    init(_ server: Server) { self.server = server }
}
