import Foundation
import JSONText
import MCPProtocol
@testable import MCPPush
import PushCore
import TestSupport
import Testing

/// The history resources, read through the protocol layer after real tool calls.
extension ToolTests {
    func read(_ client: TestClient, _ uri: String) async throws -> JSONValue {
        let result = try await client.request("resources/read", ["uri": .string(uri)])
        #expect(result["cacheScope"] == "private")
        let first = try #require(result["contents"]?.arrayValue?.first)
        #expect(first["mimeType"] == "application/json")
        #expect(first["uri"] == .string(uri))
        let text = try #require(first["text"]?.stringValue)
        return try #require(JSONValue.decode(Data(text.utf8)))
    }

    @Test func listsTheResourcesAndTheRunTemplate() async throws {
        try await withClient([:]) { client in
            let resources = try #require(try await client.request("resources/list")["resources"]?.arrayValue)
            #expect(resources.map { $0["uri"] } == ["mcp-push://channels", "mcp-push://runs", "mcp-push://history"])
            let templates = try #require(try await client.request("resources/templates/list")["resourceTemplates"]?.arrayValue)
            #expect(templates.map { $0["uriTemplate"] } == ["mcp-push://runs/{run_id}"])
        }
    }

    @Test func channelsResourceShowsStateAndLastDeliveryWithoutSecrets() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            let variables = ["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL, "DD_BOT_SECRET": "SECabcdef123456"]
            try await withClient(variables) { client in
                _ = try await call(client, "notify_send", ["title": "Done", "content": "ok"])
                let channels = try #require(try await read(client, "mcp-push://channels").array)
                let byID = Dictionary(uniqueKeysWithValues: channels.compactMap { item in item["id"]?.string.map { ($0, item) } })
                #expect(byID["bark"]?["state"]?.string == "configured")
                #expect(byID["bark"]?["last_success"]?.string != nil)
                #expect(byID["dingtalk"]?["state"]?.string == "misconfigured")
                #expect(byID["dingtalk"]?["problem"]?.string?.contains("DD_BOT_TOKEN") == true)
                #expect(byID["dingtalk"]?["rate_limits"]?.array?.compactMap(\.string) == ["20 a minute"])
                #expect(byID["telegram"]?["state"]?.string == "off")
                let text = String(describing: channels)
                #expect(!text.contains(Self.barkKey))
                #expect(!text.contains("SECabcdef123456"))
            }
        }
    }

    @Test func runResourceHoldsEventsDeliveriesAndDuration() async throws {
        try await FakeService.with(Self.barkOK) { bark in
            try await withClient(["BARK_PUSH": Self.barkKey, "MCP_PUSH_BARK_BASE_URL": bark.baseURL]) { client in
                _ = try await call(client, "notify_event", [
                    "run_id": "nightly/42", "event": "start", "message": "go", "timestamp": "2026-11-24T09:00:00Z",
                ])
                _ = try await call(client, "notify_event", [
                    "run_id": "nightly/42", "event": "end", "message": "all green", "timestamp": "2026-11-24T09:12:05Z",
                ])
                let runs = try #require(try await read(client, "mcp-push://runs").array)
                #expect(runs.first?["run_id"]?.string == "nightly/42")
                #expect(runs.first?["outcome"]?.string == "end")

                let detail = try await read(client, "mcp-push://runs/nightly%2F42")
                #expect(detail["duration_ms"]?.int == 725_000)
                #expect(detail["events"]?.array?.compactMap { $0["kind"]?.string } == ["start", "end"])
                let deliveries = try #require(detail["deliveries"]?.array)
                #expect(deliveries.count == 1)
                #expect(deliveries.first?["channel"]?.string == "bark")
                #expect(deliveries.first?["ok"]?.bool == true)

                let history = try #require(try await read(client, "mcp-push://history").array)
                #expect(history.first?["title"]?.string?.contains("nightly/42") == true)
            }
        }
    }

    @Test func unknownResourceIsResourceNotFound() async throws {
        try await withClient([:]) { client in
            for uri in ["mcp-push://runs/never-ran", "mcp-push://pigeons"] {
                do {
                    _ = try await client.request("resources/read", ["uri": .string(uri)])
                    Issue.record("reading \(uri) must fail")
                } catch let error as MCPError {
                    // 2026-07-28 moved "resource not found" to -32602 (earlier revisions: -32002, checked end to end).
                    #expect(error.code == -32602)
                    #expect(error.message.contains("not found"))
                }
            }
        }
    }
}
