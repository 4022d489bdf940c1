import ArgumentParser
import Logging

/// Options every command that talks to the services shares.
struct CommandOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Log what happens on stderr (info level). MCP_PUSH_LOG_LEVEL wins over it.")
    var verbose = false

    /// A command already prints each failure in its result; its logs would say it twice.
    var logLevel: Logger.Level { verbose ? .info : .error }
}
