import JSONText
@testable import MCPProtocol
import Synchronization
import Testing

/// The protocol rules, on a connection with a small handler: eras, revisions, errors, batches, cancellation.
@Suite struct ConnectionTests {
    /// One tool that echoes its arguments, one that waits until cancelled; one resource.
    struct EchoHandler: MCPHandler {
        var implementation: Implementation { Implementation(name: "echo", version: "1", title: "Echo") }
        var instructions: String? { "Echoes." }
        var tools: [Tool] {
            [
                Tool(name: "echo", title: "Echo", description: "Echoes", inputSchema: ["type": "object"], outputSchema: ["type": "object"]),
                Tool(name: "wait", description: "Waits", inputSchema: ["type": "object"]),
            ]
        }
        var resources: [Resource] { [Resource(name: "one", uri: "test://one", mimeType: "text/plain")] }
        var resourceTemplates: [ResourceTemplate] { [] }
        var prompts: [Prompt] { [] }

        func callTool(_ name: String, arguments: OrderedJSON?, progress: ProgressReporter?) async throws(MCPError) -> ToolResult {
            if name == "wait" {
                await progress?.report(progress: 0.5, total: 1, message: "waiting")
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
                return ToolResult(text: "cancelled", isError: true)
            }
            guard name == "echo" else { throw .invalidParams("no tool \(name)") }
            return ToolResult(text: (arguments ?? .null).text, structuredContent: arguments, isError: false)
        }

        func readResource(_ uri: String) async throws(MCPError) -> [ResourceContents] {
            guard uri == "test://one" else { throw .resourceNotFound("no \(uri)") }
            return [ResourceContents(uri: uri, text: "1", mimeType: "text/plain")]
        }

        func getPrompt(_ name: String, arguments: [String: String]) async throws(MCPError) -> PromptResult {
            throw .invalidParams("no prompts")
        }
    }

    final class Recorder: Sendable {
        let messages = Mutex<[OrderedJSON]>([])
        var sink: Sink { { message in self.messages.withLock { $0.append(try! OrderedJSON.parse(message.text)) } } }
        var all: [OrderedJSON] { messages.withLock { $0 } }
        func take() -> [OrderedJSON] {
            messages.withLock { messages in
                let taken = messages
                messages = []
                return taken
            }
        }
    }

    let connection = MCPConnection(server: MCPServer(handler: EchoHandler()))
    let recorder = Recorder()

    func send(_ text: String) async throws -> [OrderedJSON] {
        await connection.handle(try OrderedJSON.parse(text), send: recorder.sink)
        return recorder.take()
    }

    static let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#

    func initialize(_ version: String) async throws -> OrderedJSON {
        let answers = try await send(#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"\#(version)","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        return try #require(answers.first)
    }

    @Test func idsAreEchoedAsGivenAndForbiddenOnesAnsweredWithNull() async throws {
        _ = try await initialize("2025-11-25")
        #expect(try await send(#"{"jsonrpc":"2.0","id":"a\u0000b","method":"ping"}"#).first?["id"] == .string("a\u{0}b"))
        #expect(try await send(#"{"jsonrpc":"2.0","id":-9223372036854775808,"method":"ping"}"#).first?["id"] == .int(Int.min))
        for id in ["{}", "[1]", "true", "null", "1.5", "18446744073709551616"] {
            let answer = try #require(try await send(#"{"jsonrpc":"2.0","id":\#(id),"method":"ping"}"#).first)
            #expect(answer["id"] == .null, "\(id)")
            #expect(answer["error"]?["code"] == -32600, "\(id)")
        }
    }

    @Test func notificationsAndResponsesAreNeverAnswered() async throws {
        _ = try await initialize("2025-11-25")
        #expect(try await send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).isEmpty)
        #expect(try await send(#"{"jsonrpc":"2.0","method":"no/such/notification","params":{}}"#).isEmpty)
        #expect(try await send(#"{"jsonrpc":"2.0","method":"notifications/initialized","params":"x"}"#).isEmpty)
        #expect(try await send(#"{"jsonrpc":"2.0","id":7,"result":{}}"#).isEmpty)
    }

    @Test func jsonRPCErrors() async throws {
        _ = try await initialize("2025-06-18")
        let cases: [(String, Int)] = [
            (#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, -32600),
            (#"{"id":1,"method":"ping"}"#, -32600),
            (#"{"jsonrpc":"2.0","id":1,"method":7}"#, -32600),
            (#"{"jsonrpc":"2.0","id":1}"#, -32600),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1]}"#, -32602),
            (#"{"jsonrpc":"2.0","id":1,"method":"no/such/method"}"#, -32601),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":3}}"#, -32602),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":[1]}}"#, -32602),
            (#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{}}"#, -32602),
            (#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"test://two"}}"#, -32002),
            (#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#, -32600),
            ("42", -32600),
        ]
        for (text, code) in cases {
            let answers = try await send(text)
            #expect(answers.count == 1, "\(text)")
            #expect(answers.first?["error"]?["code"] == .int(code), "\(text): \(answers)")
        }
    }

    @Test(arguments: [
        ("2024-11-05", "2024-11-05"), ("2025-03-26", "2025-03-26"), ("2025-06-18", "2025-06-18"), ("2025-11-25", "2025-11-25"),
        ("2026-07-28", "2025-11-25"), ("2099-01-01", "2025-11-25"), ("", "2025-11-25"),
    ])
    func initializeNegotiates(requested: String, negotiated: String) async throws {
        let answer = try await initialize(requested)
        #expect(answer["result"]?["protocolVersion"] == .string(negotiated))
        #expect(answer["result"]?["capabilities"]?["tools"] == ["listChanged": false])
        let title = answer["result"]?["serverInfo"]?["title"]
        #expect((title != nil) == (negotiated >= "2025-06-18"))
        #expect(connection.era == .handshake(ProtocolRevision(rawValue: negotiated)!))
    }

    @Test func olderRevisionsGetTheFieldsTheyKnow() async throws {
        _ = try await initialize("2024-11-05")
        let tools = try #require(try await send(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).first?["result"]?["tools"])
        guard case .array(let list) = tools else { throw MCPError.internalError("no tools") }
        #expect(list[0]["title"] == nil && list[0]["outputSchema"] == nil && list[0]["annotations"] == nil)
        let call = try await send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"a":1}}}"#)
        #expect(call.first?["result"]?["structuredContent"] == nil)
        #expect(call.first?["result"]?["resultType"] == nil)
    }

    @Test func requestsBeforeInitializeOtherThanPingAreRefused() async throws {
        #expect(try await send(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).first?["error"]?["code"] == -32600)
        #expect(try await send(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#).first?["result"] == [:])
        #expect(connection.era == .undecided)
    }

    @Test func statelessRequestsCarryTheirVersionAndAreTagged() async throws {
        let discover = try #require(try await send(#"{"jsonrpc":"2.0","id":"d","method":"server/discover","params":{\#(Self.meta)}}"#).first?["result"])
        #expect(discover["supportedVersions"] == ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"])
        #expect(discover["resultType"] == "complete")
        #expect(discover["ttlMs"] != nil && discover["cacheScope"] == "public")
        #expect(discover["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"] == "echo")
        #expect(discover["instructions"] == "Echoes.")
        #expect(connection.era == .stateless)
        let list = try #require(try await send(#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{\#(Self.meta)}}"#).first?["result"])
        #expect(list["ttlMs"] == 3_600_000 && list["cacheScope"] == "public")
        let read = try #require(try await send(#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"test://one",\#(Self.meta)}}"#).first?["result"])
        #expect(read["ttlMs"] == 0 && read["cacheScope"] == "private")
        let missing = try await send(#"{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"test://x",\#(Self.meta)}}"#)
        #expect(missing.first?["error"]?["code"] == -32602)
        let call = try #require(try await send(#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"s":"data:text/plain;base64,SGVsbG8="},\#(Self.meta)}}"#).first?["result"])
        #expect(call["structuredContent"] == ["s": "data:text/plain;base64,SGVsbG8="])
        #expect(call["resultType"] == "complete" && call["ttlMs"] == nil)
        // 2026-07-28 removed ping and logging/setLevel.
        for method in ["ping", "logging/setLevel"] {
            #expect(try await send(#"{"jsonrpc":"2.0","id":5,"method":"\#(method)","params":{\#(Self.meta)}}"#).first?["error"]?["code"] == -32601)
        }
        // The era is the connection's: initialize now names the versions.
        let initialize = try #require(try await send(#"{"jsonrpc":"2.0","id":6,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#).first?["error"])
        #expect(initialize["code"] == -32022)
        #expect(initialize["data"]?["supported"] != nil)
        // A request without the envelope on a stateless connection.
        #expect(try await send(#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#).first?["error"]?["code"] == -32602)
    }

    @Test func anUnsupportedVersionIsMinus32022NamingTheVersions() async throws {
        let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2030-01-01","io.modelcontextprotocol/clientCapabilities":{}}"#
        let error = try #require(try await send(#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{\#(meta)}}"#).first?["error"])
        #expect(error["code"] == -32022)
        #expect(error["data"]?["requested"] == "2030-01-01")
        #expect(error["data"]?["supported"] == .array(ProtocolRevision.allCases.reversed().map { .string($0.rawValue) }))
        let noCapabilities = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}"#
        #expect(try await send(#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{\#(noCapabilities)}}"#).first?["error"]?["code"] == -32602)
        #expect(connection.era == .undecided)
    }

    @Test func aHandshakeConnectionRefusesStatelessRequests() async throws {
        _ = try await initialize("2025-11-25")
        #expect(try await send(#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{\#(Self.meta)}}"#).first?["error"]?["code"] == -32600)
        #expect(try await send(#"{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"debug"}}"#).first?["result"] == [:])
    }

    @Test func batchesOnlyIn20250326() async throws {
        #expect(try await send(#"[{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26"}}]"#).first?["error"]?["code"] == -32600)
        _ = try await initialize("2025-03-26")
        let answers = try await send(#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":"x","method":"nope"},[]]"#)
        #expect(answers.count == 1)
        guard case .array(let responses) = try #require(answers.first) else {
            Issue.record("a batch is answered with an array")
            return
        }
        #expect(Set(responses.compactMap { $0["id"].map(\.text) }) == ["1", "\"x\"", "null"])
        #expect(try await send("[]").first?["error"]?["code"] == -32600)
        let other = MCPConnection(server: MCPServer(handler: EchoHandler()), era: .handshake(.v2025_06_18))
        let recorder = Recorder()
        await other.handle(try OrderedJSON.parse(#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#), send: recorder.sink)
        #expect(recorder.all.first?["error"]?["code"] == -32600)
    }

    @Test func cancelledRequestsStopAndAreNotAnswered() async throws {
        _ = try await initialize("2025-11-25")
        connection.dispatch(
            try OrderedJSON.parse(#"{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"wait","_meta":{"progressToken":"p1"}}}"#),
            send: recorder.sink, write: { _ in Issue.record("a call is not answered at once") })
        while connection.unfinished == 0 || recorder.all.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
        #expect(recorder.all.first?["method"] == "notifications/progress")
        #expect(recorder.all.first?["params"]?["progressToken"] == "p1")
        #expect(recorder.all.first?["params"]?["message"] == "waiting")
        _ = try await send(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow","reason":"user"}}"#)
        let deadline = ContinuousClock.now + .seconds(5)
        while connection.unfinished > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        #expect(connection.unfinished == 0)
        #expect(recorder.all.allSatisfy { $0["id"] == nil }, "no answer for a cancelled request")
    }
}
