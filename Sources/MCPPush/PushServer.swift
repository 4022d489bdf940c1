import Approvals
import JSONText
import Logging
import MCPProtocol
import PushCore

/// The MCP face of mcp-push: its tools, prompt and resources, served by ``MCPProtocol``.
public struct PushServer: MCPHandler {
    public static let name = "mcp-push"
    public static let promptName = "mcp-push-guidelines"

    let notifier: Notifier
    /// Asks the person (`notify_ask`); nil or unavailable: the tool is not listed.
    let approver: Approver?

    public init(notifier: Notifier, approver: Approver? = nil) {
        self.notifier = notifier
        self.approver = approver
    }

    public var implementation: Implementation {
        Implementation(name: Self.name, version: PushCoreVersion.current, title: "mcp-push notifications")
    }

    public var instructions: String? {
        "Use notify_send to tell the user (on their phone or chat) that a long task finished, failed, or needs their input. Do not notify for task starts or routine progress. Full guidance: the mcp-push-guidelines prompt."
    }

    public var tools: [Tool] { approver?.isAvailable == true ? PushTools.all + [AskTool.tool] : PushTools.all }
    public var resources: [Resource] { PushResources.fixed }
    public var resourceTemplates: [ResourceTemplate] { PushResources.templates }
    public var prompts: [Prompt] { [Self.prompt] }

    static let prompt = Prompt(
        name: promptName,
        title: "When to notify the user",
        description: "Guidance for agents on when (and when not) to push a notification with mcp-push, and how to read the result.")

    public func callTool(_ name: String, arguments: OrderedJSON?, progress: ProgressReporter?) async throws(MCPError) -> ToolResult {
        if name == AskTool.name, let approver, approver.isAvailable {
            return await AskTool.call(arguments, approver: approver, progress: progress)
        }
        let reporter = progress.map { reporter in
            CallProgress { value, total, message in await reporter.report(progress: value, total: total, message: message) }
        }
        return try await PushTools.call(name, arguments: arguments, notifier: notifier, progress: reporter)
    }

    public func readResource(_ uri: String) async throws(MCPError) -> [ResourceContents] {
        try await PushResources.read(uri, notifier: notifier)
    }

    public func getPrompt(_ name: String, arguments: [String: String]) async throws(MCPError) -> PromptResult {
        guard name == Self.promptName else {
            throw .invalidParams("Unknown prompt '\(name)'; this server has \(Self.promptName).")
        }
        return PromptResult(description: Self.prompt.description, userMessages: [Guidelines.prompt])
    }

    /// Serves over stdin/stdout until the client closes stdin, then answers what is
    /// still in flight (bounded by `drainTimeout`) before returning.
    public func runStdio(logger: Logger, drainTimeout: Duration) async {
        await StdioTransport(logger: logger).serve(MCPServer(handler: self), drainTimeout: drainTimeout)
        // Calls still under way are interrupted: each delivery in flight is queued for the next
        // mcp-push process rather than cancelled into nothing.
        await notifier.interruptCalls()
    }
}
