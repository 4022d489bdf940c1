import ArgumentParser
import Foundation
import PushCore

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send one notification to every configured channel (or the ones named).",
        discussion: """
            Prints one line per channel (result, time, the service's reason on failure), or the same JSON \
            the notify_send tool returns with --json. On a terminal each line appears as its channel answers, \
            with a note every few seconds naming the channels still waited for; piped, the table comes at \
            the end. "ok (cut to fit)" means the service got the message shortened to its size limit. \
            Exit status: 0 success, 1 partial success or queued for retry, 2 error.

            --content - reads the message from stdin. Without --title, the message's first line is the \
            title and the rest the body; a one-line message is sent as both title and body.

            Examples:
              mcp-push send --title "Build finished" --content "All 412 tests passed"
              mcp-push send -t "Deploy failed" -c "$(tail -5 deploy.log)" --channel telegram --channel bark
              make test 2>&1 | tail -20 | mcp-push send -t "Tests" -c -
              git log -1 --format='%s%n%n%b' | mcp-push send -c -
              mcp-push send -t "Done" -c "Report ready" --json
              mcp-push send -t "Deploy failed" -c "Rolled back" --level error --url https://ci.example/42
            """)

    @Option(name: .shortAndLong, help: "Short headline (shown on the lock screen). (default: the message's first line)")
    var title: String?

    @Option(name: .shortAndLong, help: "The message; - reads it from stdin.")
    var content: String

    @Option(help: "text: shown as written; markdown: rendered where the app can, plain text elsewhere.")
    var format: Format = .text

    @Option(help: "How urgent: info, success, warning, error or critical (each service shows it its own way).")
    var level: Level = .info

    @Option(help: "An http(s) link the notification opens.")
    var url: String?

    @Option(name: .long, help: "Send only to this channel id; repeat for several. (default: every configured channel)")
    var channel: [String] = []

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var options: CommandOptions

    func run() async throws {
        let text = try content == "-" ? Self.readStandardInput() : content
        let (title, body) = Self.headline(title: title, content: text)
        let runtime = try Runtime.start(options)
        let channels = channel.isEmpty ? nil : channel
        let result: DispatchResult
        do {
            result = try await Output.reporting(json: json) { progress throws(InputError) in
                try await runtime.sending { notifier throws(InputError) in
                    try await notifier.send(title: title, content: body, channels: channels, progress: progress, url: url, level: level, format: format)
                }
            }
        } catch {
            Output.writeError("mcp-push: \(error.description)")
            throw ExitCode(2)
        }
        throw result.exitCode
    }

    /// The title and body to send: with no title, the message's first non-blank line is the title
    /// and the rest the body; a one-line message is both (every service needs a body).
    static func headline(title: String?, content: String) -> (title: String, content: String) {
        if let title { return (title, content) }
        let lines = content.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.firstIndex(where: { !String($0).trimmingWhitespace().isEmpty }) else { return ("", content) }
        let headline = String(lines[first]).trimmingWhitespace()
        let rest = lines[(first + 1)...].joined(separator: "\n").trimmingWhitespace()
        return (headline, rest.isEmpty ? headline : rest)
    }

    /// The message piped in for `--content -`; an empty one is an error, not a blank notification.
    static func readStandardInput() throws -> String {
        if isatty(STDIN_FILENO) == 1 {
            Output.writeError("mcp-push: reading the message from the terminal; end it with Ctrl-D")
        }
        let text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        guard !text.trimmingWhitespace().isEmpty else {
            Output.writeError("mcp-push: --content - read nothing from stdin; pipe the message in, e.g. `make 2>&1 | tail -20 | mcp-push send -t Build -c -`")
            throw ExitCode(2)
        }
        return text
    }
}

extension Level: ExpressibleByArgument {}
extension Format: ExpressibleByArgument {}
