import Foundation
import JSONText
import Logging
@testable import MCPProtocol
@testable import MCPPush
import PushCore
import Synchronization
import TestSupport
import Testing

/// The tools as a client sees them: MCP 2026-07-28 requests, written and read back as JSON text,
/// through the protocol layer's connection (the Python clients check the same end to end).
@Suite struct ToolTests {
    static let barkKey = "BarkDeviceKey0123456789"
    static let barkOK: FakeService.Handler = { request in
        guard request.json?["device_key"]?.string == barkKey else {
            return .raw(#"{"code":400,"message":"failed to get device token","timestamp":1732406400}"#, status: 400)
        }
        return .raw(#"{"code":200,"message":"success","timestamp":1732406400}"#)
    }

    /// Starts mcp-push's server with `variables` and runs `body` with a connected client.
    @discardableResult
    func withClient<T: Sendable>(_ variables: [String: String], _ body: @Sendable (TestClient) async throws -> T) async throws -> T {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let notifier = try Notifier(configuration: Configuration(variables), logger: logger)
        let client = TestClient(PushServer(notifier: notifier))
        do {
            let result = try await body(client)
            await notifier.shutdown()
            return result
        } catch {
            await notifier.shutdown()
            throw error
        }
    }

    func call(_ client: TestClient, _ name: String, _ arguments: OrderedJSON) async throws -> OrderedJSON {
        try await client.request("tools/call", ["name": .string(name), "arguments": arguments])
    }

    /// The text content and the structured content must be the same JSON object.
    func structured(_ result: OrderedJSON) throws -> [String: OrderedJSON] {
        let structured = try #require(result["structuredContent"])
        let text = try #require(result["content"]?.arrayValue?.first?["text"]?.stringValue)
        #expect(try OrderedJSON.parse(text) == structured)
        return try #require(structured.dictionary)
    }

    @Test func listsBothToolsWithSchemasAndAnnotations() async throws {
        try await withClient([:]) { client in
            let tools = try #require(try await client.request("tools/list")["tools"]?.arrayValue)
            #expect(tools.map { $0["name"] } == ["notify_send", "notify_event"])
            for tool in tools {
                #expect(tool["annotations"]?["readOnlyHint"] == false)
                #expect(tool["annotations"]?["idempotentHint"] == false)
                #expect(tool["annotations"]?["openWorldHint"] == true)
                #expect(tool["outputSchema"]?["required"] != nil)
                #expect(tool["description"]?.stringValue?.contains("Do not") == true)
            }
            #expect(tools[0]["inputSchema"]?["required"] == ["title", "content"])
            #expect(tools[1]["inputSchema"]?["required"] == ["run_id", "event", "message"])
        }
    }

    @Test func sendDeliversAndReportsPerChannel() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            try await withClient(["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL]) { client in
                let result = try await call(client, "notify_send", ["title": "Build finished", "content": "42 tests passed"])
                #expect(result["isError"] == false)
                let object = try structured(result)
                #expect(object["status"] == "success")
                #expect(object["channels_count"] == 1)
                #expect(object["errors"] == [:])
                let first = try #require(object["results"]?.arrayValue?.first?.dictionary)
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
                #expect(result["isError"] == true)
                let object = try structured(result)
                #expect(object["status"] == "error")
                #expect(object["errors"]?.dictionary?["bark"]?.stringValue?.contains("failed to get device token") == true)
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
    ] as [(OrderedJSON, String)])
    func badSendInputIsAnErrorResultNamingTheField(arguments: OrderedJSON, expected: String) async throws {
        try await withClient(["BARK_PUSH": Self.barkKey]) { client in
            let result = try await call(client, "notify_send", arguments)
            #expect(result["isError"] == true)
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
    ] as [(OrderedJSON, String)])
    func badEventInputIsAnErrorResultNamingTheField(arguments: OrderedJSON, expected: String) async throws {
        try await withClient(["BARK_PUSH": Self.barkKey]) { client in
            let result = try await call(client, "notify_event", arguments)
            #expect(result["isError"] == true)
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
                #expect(pushed["body"]?.string == "All green\n\nProgress: 100%\nTook: 12m 05s")
                #expect(pushed["url"]?.string == "https://ci.example/7")  // Bark opens the artifact when tapped
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
            let prompts = try #require(try await client.request("prompts/list")["prompts"]?.arrayValue)
            #expect(prompts.map { $0["name"] } == ["mcp-push-guidelines"])
            let prompt = try await client.request("prompts/get", ["name": "mcp-push-guidelines"])
            let message = try #require(prompt["messages"]?.arrayValue?.first)
            #expect(message["role"] == "user")
            let text = try #require(message["content"]?["text"]?.stringValue)
            #expect(text.contains("## Do not notify"))
            #expect(text.contains("notify_event"))
        }
    }

    @Test func unknownToolIsAProtocolError() async throws {
        try await withClient([:]) { client in
            let error = await #expect(throws: MCPError.self) {
                _ = try await call(client, "notify_pigeon", [:])
            }
            #expect(error?.code == -32602)
        }
    }
}

/// A client in the test's process: each request goes out as JSON text at MCP 2026-07-28 and its
/// answer is read back from text.
final class TestClient: Sendable {
    let connection: MCPConnection
    private let nextID = Mutex(0)

    init(_ handler: some MCPHandler) {
        connection = MCPConnection(server: MCPServer(handler: handler))
    }

    /// The result, or the error as an ``MCPError``.
    func request(_ method: String, _ params: OrderedJSON = [:]) async throws -> OrderedJSON {
        let id = nextID.withLock { value -> Int in
            value += 1
            return value
        }
        let meta: OrderedJSON = ["io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": [:]]
        let message: OrderedJSON = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": .object(params.members! + [("_meta", meta)])]
        let answers = Mutex<[String]>([])
        await connection.handle(try OrderedJSON.parse(message.text), send: { reply in answers.withLock { $0.append(reply.text) } })
        let response = try OrderedJSON.parse(try #require(answers.withLock { $0.last }))
        #expect(response["id"] == .int(id))
        if let error = response["error"] {
            throw MCPError(code: error["code"]?.intValue ?? 0, error["message"]?.stringValue ?? "")
        }
        let result = try #require(response["result"])
        #expect(result["resultType"] == "complete")
        return result
    }
}

extension OrderedJSON {
    var arrayValue: [OrderedJSON]? {
        if case .array(let items) = self { return items }
        return nil
    }

    var intValue: Int? {
        if case .int(let value) = self { return value }
        return nil
    }
}
