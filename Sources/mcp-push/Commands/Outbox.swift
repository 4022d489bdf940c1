import ArgumentParser
import Foundation
import PushCore

struct Outbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "List, retry or drop the deliveries waiting in the outbox.",
        discussion: """
            Every delivery is written here before its first attempt; it stays when its service still \
            failed transiently (network trouble, 429, 5xx) at the call's deadline, when a channel's rate \
            limit was reached, or when the process sending it stopped. A running `mcp-push serve`, every \
            mcp-push start, and the background flusher a `send` or `event` leaves behind retry it: only a \
            process configured for the same target sends it. It ends delivered, failed for good, or expired \
            (MCP_PUSH_OUTBOX_MAX_AGE, default 24 h), and the history says which. STATE is waiting, sending \
            (under way in some process) or expired.

            Examples:
              mcp-push outbox
              mcp-push outbox --flush
              mcp-push outbox --drop 17
              mcp-push outbox --json
            """)

    @Flag(help: "Retry everything waiting now, then list what is left.")
    var flush = false

    @Option(help: "Give up on the delivery with this id (see the ID column).")
    var drop: Int64?

    @Flag(help: "Print JSON.")
    var json = false

    /// Run by the background flusher a command leaves behind (see BackgroundFlusher).
    @Flag(name: .customLong("drain"), help: .hidden)
    var drain = false

    func validate() throws {
        if flush && drop != nil { throw ValidationError("--flush and --drop cannot be combined") }
    }

    func run() async throws {
        let runtime = try Runtime.start()
        let notifier = runtime.notifier
        if drain {
            await Self.drain(runtime)
            return
        }
        var lines: [String] = []
        let output: Result<String, CommandFailure>
        do {
            if let id = drop {
                guard try await notifier.dropFromOutbox(id) else {
                    throw CommandFailure("no delivery \(id) in the outbox (see `mcp-push outbox`)")
                }
                lines.append("Dropped delivery \(id).")
            }
            if flush {
                let pass = try await notifier.flushOutbox()
                lines.append("Flushed: \(pass.delivered) delivered, \(pass.rescheduled) still waiting, \(pass.failed) failed, \(pass.expired) expired.")
            }
            let entries = try await notifier.outboxEntries()
            if json {
                output = .success(Reports.json(entries))
            } else {
                lines.append(Self.table(entries))
                output = .success(lines.joined(separator: "\n"))
            }
        } catch let failure as CommandFailure {
            output = .failure(failure)
        } catch {
            output = .failure(CommandFailure("outbox unavailable: \(notifier.redact(String(describing: error)))"))
        }
        await notifier.shutdown()
        try Output.finish(output)
    }

    /// Works the outbox until nothing this configuration can send waits (the detached flusher).
    static func drain(_ runtime: Runtime) async {
        let notifier = runtime.notifier
        let directory = Store.directory(configuration: runtime.configuration)
        // Another flusher of this configuration is at work: it sends these too.
        if BackgroundFlusher.lock(stateDirectory: directory, configurationKey: notifier.outboxTargetsKey) {
            let pass = await notifier.drainOutbox()
            runtime.logger.info("background flush: \(pass.delivered) delivered, \(pass.failed) failed, \(pass.expired) expired")
        }
        await notifier.shutdown()
    }

    static func table(_ entries: [Reports.OutboxEntry]) -> String {
        guard !entries.isEmpty else { return "The outbox is empty: nothing waits to be delivered." }
        let now = Date()
        let rows = entries.map { entry in
            [
                "\(entry.id)", entry.channel, entry.state.rawValue + (entry.sendableHere ? "" : " (another configuration)"),
                Output.age(of: entry.createdAt, now: now),
                "\(entry.attempts)",
                entry.nextAttemptAt <= now ? "now" : "in " + Output.age(of: now, now: entry.nextAttemptAt),
                entry.title, entry.lastError ?? "",
            ]
        }
        return Output.table(header: ["ID", "CHANNEL", "STATE", "AGE", "ATTEMPTS", "NEXT TRY", "TITLE", "LAST ERROR"], rows: rows)
            .joined(separator: "\n")
    }
}
