import Foundation
@testable import PushCore
import Testing

/// Defect: `declare -x` and `readonly` lines were silently skipped, and a config path that is a
/// directory gave no words for it.
@Suite struct ConfigFileDeclarationTests {
    @Test func everyWayShellsDeclareAVariableIsRead() throws {
        let values = try ConfigFile.parse("""
            declare -x BARK_PUSH="key one"
            typeset -rx DD_BOT_TOKEN=tok
            readonly NTFY_TOPIC='alerts'
            declare -r -x TG_USER_ID=42
            export GOTIFY_URL=https://g.example
            declare -f some_function
            """)
        #expect(values == [
            "BARK_PUSH": "key one", "DD_BOT_TOKEN": "tok", "NTFY_TOPIC": "alerts", "TG_USER_ID": "42", "GOTIFY_URL": "https://g.example",
        ])
    }

    @Test func aDirectoryIsSaidToBeOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cfgdir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(throws: ConfigurationError.unreadableFile(directory, "it is a directory; expected a config.sh file (MCP_PUSH_CONFIG names the file itself)")) {
            try Configuration.load(environment: ["MCP_PUSH_CONFIG": directory])
        }
    }
}
