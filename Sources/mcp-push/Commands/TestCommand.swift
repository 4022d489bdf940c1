import ArgumentParser
import Foundation
import PushCore

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send a test notification to every configured channel and show each result and its latency.",
        discussion: """
            Use it after setting a channel's variables: a failure shows the service's own reason. \
            Exit status: 0 all delivered, 1 some failed, 2 none delivered or nothing configured.

            Examples:
              mcp-push test
              mcp-push test --channel dingtalk
            """)

    @Option(name: .long, help: "Test only this channel id; repeat for several.")
    var channel: [String] = []

    func run() async throws {
        let runtime = try Runtime.start()
        let host = ProcessInfo.processInfo.hostName
        let result: DispatchResult
        do {
            result = try await runtime.notifier.send(
                title: "mcp-push test",
                content: "If you can read this, mcp-push reaches you here. Sent from \(host) at \(RFC3339.format(Date())).",
                channels: channel.isEmpty ? nil : channel)
        } catch {
            await runtime.notifier.shutdown()
            Output.writeError("mcp-push: \(error.description)")
            throw ExitCode(2)
        }
        await runtime.notifier.shutdown()
        Output.write(Output.table(result))
        throw result.exitCode
    }
}
