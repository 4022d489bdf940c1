@testable import Agents
import Testing

/// The edits install makes, on the shapes of files people write: only the touched bytes change.
@Suite struct SettingsEditTests {
    let binary = "/opt/mcp push/bin/mcp-push"

    @Test func tabsInlineObjectsAndCommentsSurviveAndTheRoundTripIsExact() throws {
        let original = "{\n\t\"a\": {\"x\": 1}, // inline\n\t\"emoji\": \"\\ud83d\\ude00\"\n}"
        let (installed, change) = try Wiring.installHooks(into: original, agent: .claude, binary: binary)
        #expect(change.added == Wiring.hookEvents(.claude))
        #expect(installed.hasPrefix("{\n\t\"a\": {\"x\": 1}, // inline\n\t\"emoji\": \"\\ud83d\\ude00\",\n\t\"hooks\": {\n\t\t\"Stop\": [\n"))
        let document = try JSONDocument(parsing: installed)
        #expect(document.string(at: ["emoji"]) == "😀")
        // A path with a space is quoted for the shell the agent runs hooks with, and recognised again.
        let hook = try #require(Wiring.hooks(in: document, agent: .claude).first)
        #expect(hook.binary == binary)
        #expect(document.plain(at: ["hooks", "Stop"])?.array?.first?["hooks"]?.array?.first?["command"]?.string == "'/opt/mcp push/bin/mcp-push' hook claude")
        let (removed, _) = try Wiring.uninstallHooks(from: installed, agent: .claude)
        #expect(removed == original)
    }

    @Test func anotherAgentsHooksAndForeignCommandsAreNotOurs() {
        #expect(Wiring.binary(inHookCommand: "/usr/bin/mcp-push hook codex", agent: .claude) == nil)
        #expect(Wiring.binary(inHookCommand: "notify-send hook claude", agent: .claude) == nil)
        #expect(Wiring.binary(inHookCommand: "mcp-push hook claude", agent: .claude) == "mcp-push")
        for foreign in ["mcp-pushover hook claude", "/usr/local/bin/mcp-push-wrapper hook claude", "'/x/mcp-push.sh' hook claude"] {
            #expect(Wiring.binary(inHookCommand: foreign, agent: .claude) == nil, "\(foreign)")
        }
        let theirs = #"{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "mcp-pushover hook claude"}]}]}}"#
        #expect(throws: Never.self) {
            let (kept, change) = try Wiring.uninstallHooks(from: theirs, agent: .claude)
            #expect(kept == theirs && change.removed.isEmpty)
        }
    }

    @Test func aHookSharingAGroupWithTheUsersIsTakenOutAlone() throws {
        let shared = #"{"hooks": {"Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "say done"}, {"type": "command", "command": "/x/mcp-push hook claude"}]}]}}"#
        let (removed, change) = try Wiring.uninstallHooks(from: shared, agent: .claude)
        #expect(change.removed == ["Stop"])
        let document = try JSONDocument(parsing: removed)
        #expect(document.plain(at: ["hooks", "Stop"])?.array?.first?["hooks"]?.array?.count == 1)
        #expect(document.plain(at: ["hooks", "Stop"])?.array?.first?["hooks"]?.array?.first?["command"]?.string == "say done")
    }

    @Test func syntaxErrorsSayWhere() {
        #expect(throws: JSONDocumentError.syntax(line: 2, column: 8, "expected a value")) {
            try JSONDocument(parsing: "{\n  \"a\": }")
        }
        #expect(throws: JSONDocumentError.self) { try JSONDocument(parsing: "{\"a\": \"unterminated}") }
        #expect(throws: JSONDocumentError.self) { try JSONDocument(parsing: String(repeating: "[", count: 10_000)) }
    }

    @Test func tomlMultiLineNotifyAndQuotedTableNamesAreRecognised() {
        let text = "notify = [\n  \"/old/mcp-push\",\n  \"hook\", # ours\n  \"codex\",\n]\n\n[mcp_servers.\"mcp-push\"]\ncommand = '/old/mcp-push'\n"
        let (updated, change) = Wiring.installCodexConfig(into: text, binary: "/new/mcp-push", writeServer: true)
        #expect(change.updated == ["notify", "[mcp_servers.mcp-push]"])
        #expect(updated == "notify = [\"/new/mcp-push\", \"hook\", \"codex\"]\n\n[mcp_servers.mcp-push]\ncommand = \"/new/mcp-push\"\n")
        let (removed, _) = Wiring.uninstallCodexConfig(from: updated)
        #expect(removed.isEmpty)
    }
}
