import Foundation
import Logging
import MCP
@testable import MCPPush
import PushCore
import TestSupport
import Testing

/// The tools as a client sees them: through the SDK's client over an in-memory transport.
@Suite struct ToolTests {
    static let barkKey = "BarkDeviceKey0123456789"
    static let barkOK: FakeService.Handler = { request in
        guard request.json?["device_key"]?.string == barkKey else {
            return .raw(#"{"code":400,"message":"failed to get device token","timestamp":1732406400}"#, status: 400)
        }
        return .raw(#"{"code":200,"message":"success","timestamp":1732406400}"#)
    }

    /// Starts mcp-push's server with `variables` and runs `body` with a connected SDK client.
    @discardableResult
    func withClient<T: Sendable>(_ variables: [String: String], _ body: @Sendable (Client) async throws -> T) async throws -> T {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let notifier = try Notifier(configuration: Configuration(variables), logger: logger)
        let server = await PushServer(notifier: notifier).makeServer()
        let (clientTransport, serverTransport) = await InMemoryTransport.createConnectedPair()
        try await server.start(transport: serverTransport)
        let client = Client(name: "tool-tests", version: "1.0")
        try await client.connect(transport: clientTransport)
        do {
            let result = try await body(client)
            await client.disconnect()
            await server.stop()
            await notifier.shutdown()
            return result
        } catch {
            await client.disconnect()
            await server.stop()
            await notifier.shutdown()
            throw error
        }
    }

    func call(_ client: Client, _ name: String, _ arguments: [String: Value]) async throws -> CallTool.Result {
        try await client.send(CallTool.request(.init(name: name, arguments: arguments))).value
    }

    /// The text content and the structured content must be the same JSON object.
    func structured(_ result: CallTool.Result) throws -> [String: Value] {
        let object = try #require(result.structuredContent?.objectValue)
        guard case .text(let text, _, _) = try #require(result.content.first) else {
            Issue.record("the first content item must be text")
            return object
        }
        let parsed = try JSONDecoder().decode(Value.self, from: Data(text.utf8))
        #expect(parsed == .object(object))
        return object
    }

    @Test func listsBothToolsWithSchemasAndAnnotations() async throws {
        try await withClient([:]) { client in
            let tools = try await client.listTools().tools
            #expect(tools.map(\.name) == ["notify_send", "notify_event"])
            for tool in tools {
                #expect(tool.annotations.readOnlyHint == false)
                #expect(tool.annotations.idempotentHint == false)
                #expect(tool.annotations.openWorldHint == true)
                #expect(tool.outputSchema?.objectValue?["required"] != nil)
                #expect(tool.description?.contains("Do not") == true)
            }
            #expect(tools[0].inputSchema.objectValue?["required"] == ["title", "content"])
            #expect(tools[1].inputSchema.objectValue?["required"] == ["run_id", "event", "message"])
        }
    }

    @Test func sendDeliversAndReportsPerChannel() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            try await withClient(["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL]) { client in
                let result = try await call(client, "notify_send", ["title": "Build finished", "content": "42 tests passed"])
                #expect(result.isError == false)
                let object = try structured(result)
                #expect(object["status"] == "success")
                #expect(object["channels_count"] == 1)
                #expect(object["errors"] == .object([:]))
                let first = try #require(object["results"]?.arrayValue?.first?.objectValue)
                #expect(first["channel"] == "bark")
                #expect(first["ok"] == true)
                #expect(first["status_code"] == 200)
                #expect(first["attempts"] == 1)
                #expect(first["duration_ms"]?.intValue != nil)
                #expect(bark.lastRequest?.json?["title"]?.string == "Build finished")
            }
        }
    }

    @Test func everyChannelFailingIsAnErrorResult() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            try await withClient(["BARK_PUSH": "wrong-device-key", "MCP_PUSH_BARK_BASE_URL": bark.baseURL]) { client in
                let result = try await call(client, "notify_send", ["title": "t", "content": "c"])
                #expect(result.isError == true)
                let object = try structured(result)
                #expect(object["status"] == "error")
                #expect(object["errors"]?.objectValue?["bark"]?.stringValue?.contains("failed to get device token") == true)
            }
        }
    }

    @Test(arguments: [
        (["content": "c"], "'title' is required"),
        (["title": "t"], "'content' is required"),
        (["title": "", "content": "c"], "'title' must not be empty"),
        (["title": 3, "content": "c"], "'title' must be a string, got a number"),
        (["title": "t", "content": "c", "channels": ["pigeon"]], "unknown channel 'pigeon' in 'channels'"),
        (["title": "t", "content": "c", "channels": "bark"], "'channels' must be an array"),
        (["title": "t", "content": "c", "priority": "high"], "unknown argument 'priority'"),
    ] as [([String: Value], String)])
    func badSendInputIsAnErrorResultNamingTheField(arguments: [String: Value], expected: String) async throws {
        try await withClient(["BARK_PUSH": Self.barkKey]) { client in
            let result = try await call(client, "notify_send", arguments)
            #expect(result.isError == true)
            let object = try structured(result)
            #expect(object["status"] == "error")
            let message = try #require(object["message"]?.stringValue)
            #expect(message.contains(expected), "\(message)")
        }
    }

    @Test(arguments: [
        (["run_id": "r", "event": "finish", "message": "m"], "'event' must be one of start, update, end, error, got 'finish'"),
        (["event": "end", "message": "m"], "'run_id' is required"),
        (["run_id": "r", "event": "end", "message": "m", "data": "x"], "'data' must be an object"),
        (["run_id": "r", "event": "end", "message": "m", "data": ["progress": 2]], "'data.progress' must be a number from 0 to 1"),
        (["run_id": "r", "event": "end", "message": "m", "timestamp": "yesterday"], "'timestamp' must be an RFC 3339"),
    ] as [([String: Value], String)])
    func badEventInputIsAnErrorResultNamingTheField(arguments: [String: Value], expected: String) async throws {
        try await withClient(["BARK_PUSH": Self.barkKey]) { client in
            let result = try await call(client, "notify_event", arguments)
            #expect(result.isError == true)
            let message = try #require(try structured(result)["message"]?.stringValue)
            #expect(message.contains(expected), "\(message)")
        }
    }

    @Test func startIsSkippedAndEndCarriesTheElapsedTime() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            try await withClient(["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL]) { client in
                let start = try structured(try await call(client, "notify_event", [
                    "run_id": "nightly-7", "event": "start", "message": "Starting", "timestamp": "2026-11-24T08:00:00Z",
                ]))
                #expect(start["status"] == "skipped")
                #expect(start["message"]?.stringValue?.contains("MCP_PUSH_EVENTS") == true)
                #expect(start["run_id"] == "nightly-7")
                #expect(start["event"] == "start")
                #expect(bark.requests.isEmpty, "start is not pushed by default")

                let end = try structured(try await call(client, "notify_event", [
                    "run_id": "nightly-7", "event": "end", "message": "All green",
                    "data": ["progress": 1, "artifact_url": "https://ci.example/7"], "timestamp": "2026-11-24T08:12:05Z",
                ]))
                #expect(end["status"] == "success")
                #expect(end["timestamp"] == "2026-11-24T08:12:05.000Z")
                let pushed = try #require(bark.lastRequest?.json)
                #expect(pushed["title"]?.string == "✅ nightly-7 finished")
                #expect(pushed["body"]?.string == "All green\n\nProgress: 100%\nLink: https://ci.example/7\nTook: 12m 05s")
            }
        }
    }

    @Test func eventsEnabledByMCPPushEvents() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            try await withClient(["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL, "MCP_PUSH_EVENTS": "all"]) { client in
                let update = try structured(try await call(client, "notify_event", [
                    "run_id": "r", "event": "update", "message": "Half way", "data": ["progress": 0.5, "step": "tests"],
                ]))
                #expect(update["status"] == "success")
                #expect(bark.lastRequest?.json?["title"]?.string == "🔄 r update")
                #expect(bark.lastRequest?.json?["body"]?.string == "Half way\n\nProgress: 50%\nStep: tests")
            }
        }
    }

    @Test func guidelinesPrompt() async throws {
        try await withClient([:]) { client in
            let prompts = try await client.listPrompts().prompts
            #expect(prompts.map(\.name) == ["mcp-push-guidelines"])
            let prompt = try await client.getPrompt(name: "mcp-push-guidelines")
            guard case .text(let text) = try #require(prompt.messages.first).content else {
                Issue.record("the prompt must be text")
                return
            }
            #expect(text.contains("## Do not notify"))
            #expect(text.contains("notify_event"))
        }
    }

    @Test func unknownToolIsAProtocolError() async throws {
        try await withClient([:]) { client in
            await #expect(throws: MCPError.self) {
                _ = try await call(client, "notify_pigeon", [:])
            }
        }
    }
}
