import ArgumentParser
import Foundation
import JSONText
import PushCore

struct Database: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "The shared state (history, outbox, runs, questions): migrate it and say where it is.",
        subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring the state's schema up to date, and say where it lives.",
            discussion: """
                Every mcp-push process does this when it opens the state; run it on its own before \
                starting several servers on one state, or to check that the state can be opened. \
                Several processes migrating at once is safe. Exit status 1 when the state cannot be used.
                """)

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var options: CommandOptions

        func run() async throws {
            let runtime = try Runtime.start(options)
            let status = await runtime.notifier.storeStatus()
            await runtime.notifier.shutdown()
            if json {
                var members: [(String, OrderedJSON)] = [("location", .string(status.location))]
                members.append(("schema_version", status.schemaVersion.map { .int($0) } ?? .null))
                members.append(("ok", .bool(status.problem == nil)))
                if let problem = status.problem { members.append(("problem", .string(problem))) }
                Output.write(OrderedJSON.object(members).text)
            } else if let problem = status.problem {
                Output.writeError("mcp-push: the state cannot be used: \(problem)")
            } else {
                Output.write("State: \(status.location), schema version \(status.schemaVersion.map(String.init) ?? "unknown") (up to date).")
            }
            if status.problem != nil { throw ExitCode(1) }
        }
    }
}
