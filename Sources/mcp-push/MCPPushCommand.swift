import ArgumentParser
import Foundation
import PushCore

@main
struct MCPPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp-push",
        abstract: "Push notifications from AI coding agents to your phone and chats, over MCP.",
        discussion: """
            Without a subcommand, mcp-push serves MCP over stdio (the same as `mcp-push serve`), which is \
            how Claude Code, Codex CLI and Gemini CLI start it. Channels are configured with environment \
            variables (BARK_PUSH, DD_BOT_TOKEN, TG_BOT_TOKEN, ...) or a config.sh file: see `mcp-push channels`.

            Examples:
              mcp-push channels
              mcp-push test
              mcp-push send --title "Build finished" --content "All tests passed"
              claude mcp add mcp-push -- /path/to/mcp-push --transport stdio
            """,
        version: PushCoreVersion.current,
        subcommands: [Serve.self, Send.self, Event.self, Channels.self, TestCommand.self, History.self, Outbox.self, Ask.self, Hook.self, Install.self, Uninstall.self, Doctor.self, Database.self],
        defaultSubcommand: Serve.self)

    /// The subcommands' names, and argument parser's own `help`.
    static var commandNames: [String] {
        configuration.subcommands.map { $0._commandName } + ["help"]
    }

    /// Agents start the stdio server with the same few arguments on every session; those
    /// go straight to it. Anything else is parsed as usual.
    static func main() async {
        StartupAffinity.pin()
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            if arguments.first == "hook" && arguments.count > 1 && !arguments[1].hasPrefix("-") {
                // An agent's hook: never an argument error, never a non-zero exit.
                await Hook.run(Array(arguments.dropFirst()))
                return
            }
            if Serve.isPlainStdio(arguments) {
                if isatty(STDIN_FILENO) == 1 {
                    // A person typed it: one line on stderr (stdout is the protocol's), then serve as asked.
                    Output.writeError(
                        "mcp-push: speaking MCP on stdin/stdout for an agent; for help run `mcp-push --help`, to try your channels `mcp-push test` (Ctrl-D ends)")
                }
                try await Serve.serveStdio()
                return
            }
            if let word = arguments.first, let unknown = UnknownCommand(word, known: commandNames) {
                Output.writeError("mcp-push: \(unknown.message)")
                throw ExitCode(2)
            }
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
