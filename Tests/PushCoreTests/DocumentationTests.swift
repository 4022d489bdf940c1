import Foundation
@testable import PushCore
import Testing

/// The user sets up from the docs alone: every channel and every variable must be in them.
@Suite struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test(arguments: ChannelCatalogue.ids)
    func everyChannelAndVariableIsDocumented(id: String) throws {
        let descriptor = try #require(ChannelCatalogue.descriptor(for: id))
        let guide = try Self.read("docs/CHANNEL_CONFIG.md")
        let example = try Self.read("config.sh.example")
        #expect(guide.contains("(`\(id)`)"), "docs/CHANNEL_CONFIG.md needs a section for \(id)")
        #expect(guide.contains(descriptor.baseURLVariable) || descriptor.defaultBaseURL == nil)
        for readme in ["README.md", "README.zh-CN.md"] {
            #expect(try Self.read(readme).contains("| `\(id)` |"), "\(readme)'s channel table needs \(id)")
        }
        for variable in descriptor.variables {
            #expect(guide.contains("`\(variable.name)`"), "docs/CHANNEL_CONFIG.md must explain \(variable.name)")
            #expect(example.contains("# export \(variable.name)="), "config.sh.example must list \(variable.name)")
        }
    }

    @Test func theExampleConfiguresNothingUntilEdited() throws {
        let example = try Self.read("config.sh.example")
        let file = try ConfigFile.parse(example)
        #expect(file.isEmpty, "every line of config.sh.example is commented out")
    }
}
