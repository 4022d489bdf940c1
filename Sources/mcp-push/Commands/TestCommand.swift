import ArgumentParser
import Foundation
import PushCore

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send a test notification to every configured channel and show each result and its latency.",
        discussion: """
            Use it after setting a channel's variables: a failure shows the service's own reason, once. On a \
            terminal each channel's line appears as it answers, with a note every few seconds naming the \
            channels still waited for. --json prints the notify_send tool's JSON instead. \
            Exit status: 0 all delivered, 1 some failed or queued, 2 none delivered or nothing configured.

            Examples:
              mcp-push test
              mcp-push test --channel dingtalk
              mcp-push test --json
            """)

    @Option(name: .long, help: "Test only this channel id; repeat for several.")
    var channel: [String] = []

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var options: CommandOptions

    func run() async throws {
        let runtime = try Runtime.start(options)
        let host = ProcessInfo.processInfo.hostName
        let channels = channel.isEmpty ? nil : channel
        let result: DispatchResult
        do {
            result = try await Output.reporting(json: json) { progress throws(InputError) in
                try await runtime.notifier.send(
                    title: "mcp-push test",
                    content: "If you can read this, mcp-push reaches you here. Sent from \(host) at \(RFC3339.format(Date())).",
                    channels: channels, progress: progress)
            }
        } catch {
            await runtime.notifier.shutdown()
            Output.writeError("mcp-push: \(error.description)")
            throw ExitCode(2)
        }
        await runtime.notifier.shutdown()
        throw result.exitCode
    }
}
