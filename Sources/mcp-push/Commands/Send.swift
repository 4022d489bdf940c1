import ArgumentParser
import PushCore

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send one notification to every configured channel (or the ones named).",
        discussion: """
            Prints one line per channel (result, time, the service's reason on failure), or the same JSON \
            the notify_send tool returns with --json. Exit status: 0 success, 1 partial success, 2 error.

            Examples:
              mcp-push send --title "Build finished" --content "All 412 tests passed"
              mcp-push send -t "Deploy failed" -c "$(tail -5 deploy.log)" --channel telegram --channel bark
              mcp-push send -t "Done" -c "Report ready" --json
            """)

    @Option(name: .shortAndLong, help: "Short headline (shown on the lock screen).")
    var title: String

    @Option(name: .shortAndLong, help: "The message.")
    var content: String

    @Option(name: .long, help: "Send only to this channel id; repeat for several. (default: every configured channel)")
    var channel: [String] = []

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let runtime = try Runtime.start()
        let result: DispatchResult
        do {
            result = try await runtime.sending { notifier throws(InputError) in try await notifier.send(title: title, content: content, channels: channel.isEmpty ? nil : channel) }
        } catch {
            Output.writeError("mcp-push: \(error.description)")
            throw ExitCode(2)
        }
        Output.write(json ? Output.json(result) : Output.table(result))
        throw result.exitCode
    }
}
