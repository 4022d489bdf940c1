import Foundation
@testable import PushCore
import Testing

@Suite struct ConfigurationTests {
    @Test func parsesTheShapesConfigShFilesHave() throws {
        let text = #"""
            #!/usr/bin/env bash
            # Bark
            export BARK_PUSH="https://api.day.app/abc"   # my phone
            export BARK_GROUP='agents # not a comment'
            DD_BOT_TOKEN=plain_value
            export EMPTY=""
            export ESCAPED="say \"hi\" \$HOME \\ done"
            export WEBHOOK_BODY="title: \$title
            content: $content"
            export SKIP_PUSH_TITLE="one
            two"
            set -a
            echo "not an assignment"
            export A=1; export B=2
            """#
        let values = try ConfigFile.parse(text)
        #expect(values["BARK_PUSH"] == "https://api.day.app/abc")
        #expect(values["BARK_GROUP"] == "agents # not a comment")
        #expect(values["DD_BOT_TOKEN"] == "plain_value")
        #expect(values["EMPTY"] == "")
        #expect(values["ESCAPED"] == #"say "hi" $HOME \ done"#)
        #expect(values["WEBHOOK_BODY"] == "title: $title\ncontent: $content", "no variable expansion: $title is a template")
        #expect(values["SKIP_PUSH_TITLE"] == "one\ntwo")
        #expect(values["A"] == "1" && values["B"] == "2")
        #expect(values.count == 9)
    }

    @Test func unclosedQuoteNamesTheLine() {
        #expect(throws: ConfigFile.ParseError(line: 2, reason: "unclosed double quote")) {
            try ConfigFile.parse("export A=1\nexport B=\"oops\n")
        }
    }

    @Test func environmentWinsOverTheFileAndEmptyValuesAreUnset() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("config.sh")
        try #"""
            export BARK_PUSH="from-file"
            export NTFY_TOPIC="file-topic"
            export SMTP_SSL=""
            """#.write(to: file, atomically: true, encoding: .utf8)
        let configuration = try Configuration.load(
            environment: ["MCP_PUSH_CONFIG": file.path, "BARK_PUSH": "from-env", "NTFY_TOPIC": ""],
            currentDirectory: "/nonexistent")
        #expect(configuration["BARK_PUSH"] == "from-env")
        #expect(configuration["NTFY_TOPIC"] == "file-topic", "an empty environment value does not hide the file's")
        #expect(configuration["SMTP_SSL"] == nil)
        #expect(configuration.sourceFile == file.path)
    }

    @Test func searchOrderIsXDGThenCurrentDirectory() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        let home = root.appendingPathComponent("home/.config/mcp-push")
        let cwd = root.appendingPathComponent("cwd")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try "export BARK_PUSH=home".write(to: home.appendingPathComponent("config.sh"), atomically: true, encoding: .utf8)
        try "export BARK_PUSH=cwd".write(to: cwd.appendingPathComponent("config.sh"), atomically: true, encoding: .utf8)
        let homeFirst = try Configuration.load(environment: ["HOME": root.appendingPathComponent("home").path], currentDirectory: cwd.path)
        #expect(homeFirst["BARK_PUSH"] == "home")
        let cwdOnly = try Configuration.load(environment: ["HOME": "/nonexistent"], currentDirectory: cwd.path)
        #expect(cwdOnly["BARK_PUSH"] == "cwd")
    }

    @Test func missingExplicitFileIsAnError() {
        #expect(throws: ConfigurationError.self) {
            try Configuration.load(environment: ["MCP_PUSH_CONFIG": "/nonexistent/config.sh"], currentDirectory: "/")
        }
    }

    @Test func baseURLOverrideIsValidated() throws {
        let descriptor = DingTalk.descriptor
        #expect(try Configuration([:]).baseURL(for: descriptor, default: "https://oapi.dingtalk.com/") == "https://oapi.dingtalk.com")
        #expect(try Configuration(["MCP_PUSH_DINGTALK_BASE_URL": "http://127.0.0.1:9000/"]).baseURL(for: descriptor, default: "x") == "http://127.0.0.1:9000")
        #expect(throws: ConfigurationError.self) {
            try Configuration(["MCP_PUSH_DINGTALK_BASE_URL": "127.0.0.1:9000"]).baseURL(for: descriptor, default: "x")
        }
    }
}

@Suite struct RedactorTests {
    @Test func redactsSecretsAndTheirEncodedForms() {
        let redactor = Redactor(secrets: ["abc+def/ghi=", "xy"])
        #expect(redactor.redact("raw abc+def/ghi= and encoded abc%2Bdef%2Fghi%3D") == "raw *** and encoded ***")
        #expect(redactor.redact("xy stays: too short to be a secret") == "xy stays: too short to be a secret")
    }

    @Test func longerSecretsAreRemovedWhole() {
        let redactor = Redactor(secrets: ["token", "token-with-suffix"])
        #expect(redactor.redact("token-with-suffix") == "***")
    }

    @Test func masksValuesForDisplay() {
        #expect(Redactor.maskValue("short") == "***")
        #expect(Redactor.maskValue("0123456789abcdefWXYZ") == "***WXYZ")
    }
}

@Suite struct EventFormatterTests {
    @Test func endEventReadsWellOnAPhone() {
        let event = RunEvent(
            runID: "nightly-42", kind: .end, message: "All green",
            data: ["progress": 1, "step": "deploy", "artifact_url": "https://ci.example/42", "retries": 2])
        let message = EventFormatter.message(for: event, elapsed: .seconds(725))
        #expect(message.title == "✅ nightly-42 finished")
        #expect(message.body == "All green\n\nProgress: 100%\nStep: deploy\nretries: 2\nTook: 12m 05s")
        // The artifact's web address is the message's link, and an end is a success.
        #expect(message.url == "https://ci.example/42" && message.level == .success)
    }

    @Test func levelsAndLinksFollowTheEventUnlessGiven() {
        #expect(EventFormatter.message(for: RunEvent(runID: "r", kind: .error, message: "boom"), elapsed: nil).level == .error)
        #expect(EventFormatter.message(for: RunEvent(runID: "r", kind: .update, message: "half"), elapsed: nil).level == .info)
        var event = RunEvent(runID: "r", kind: .end, message: "ok", data: ["artifact_url": "s3://bucket/report"])
        #expect(EventFormatter.message(for: event, elapsed: nil).url == nil)  // not a web address: stays in the text
        #expect(EventFormatter.message(for: event, elapsed: nil).body.contains("Link: s3://bucket/report"))
        event.level = .warning
        event.url = "https://ci.example/r"
        let message = EventFormatter.message(for: event, elapsed: nil)
        #expect(message.level == .warning && message.url == "https://ci.example/r" && message.body.contains("Link: s3://bucket/report"))
    }

    @Test func titlesPerKind() {
        let titles = RunEvent.Kind.allCases.map { EventFormatter.message(for: RunEvent(runID: "r", kind: $0, message: "m"), elapsed: nil).title }
        #expect(titles == ["▶️ r started", "🔄 r update", "✅ r finished", "❌ r failed"])
    }

    @Test func lastProgressIsShownWhenTheEndCarriesNone() {
        let message = EventFormatter.message(for: RunEvent(runID: "r", kind: .end, message: "done"), elapsed: .seconds(3_723), lastProgress: 0.9)
        #expect(message.body == "done\n\nProgress: 90%\nTook: 1h 02m")
    }

    @Test func eventPolicyParsing() throws {
        #expect(try EventPolicy(configuration: Configuration([:])).pushed == [.end, .error])
        #expect(try EventPolicy(configuration: Configuration(["MCP_PUSH_EVENTS": "all"])).pushed == RunEvent.Kind.allCases)
        #expect(try EventPolicy(configuration: Configuration(["MCP_PUSH_EVENTS": "start, END"])).pushed == [.start, .end])
        #expect(throws: ConfigurationError.self) { try EventPolicy(configuration: Configuration(["MCP_PUSH_EVENTS": "finish"])) }
    }
}
