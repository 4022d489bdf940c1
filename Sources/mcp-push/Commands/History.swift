import ArgumentParser
import Foundation
import JSONText
import PushCore

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show recent deliveries, or one run's events and deliveries.",
        discussion: """
            Reads the history every mcp-push process writes ($MCP_PUSH_STATE_DIR/mcp-push.sqlite, default \
            ~/.local/state/mcp-push). The same data is available to agents as the MCP resources \
            mcp-push://history, mcp-push://runs and mcp-push://runs/{run_id}.

            Examples:
              mcp-push history
              mcp-push history --limit 100 --json
              mcp-push history --runs
              mcp-push history --run nightly-build-42
              mcp-push history --approvals
            """)

    @Option(help: "Show this run's events and deliveries.")
    var run: String?

    @Flag(help: "List recent runs instead of deliveries.")
    var runs = false

    @Flag(help: "List the questions asked on the phone (permission prompts, notify_ask) and their answers.")
    var approvals = false

    @Option(help: "How many entries to show.")
    var limit = 20

    @Flag(help: "Print JSON (the MCP resources' format).")
    var json = false

    @OptionGroup var options: CommandOptions

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
        if [run != nil, runs, approvals].filter({ $0 }).count > 1 { throw ValidationError("--run, --runs and --approvals cannot be combined") }
    }

    func run() async throws {
        let runtime = try Runtime.start(options)
        let notifier = runtime.notifier
        let output: Result<String, CommandFailure>
        do {
            if let runID = run {
                if let detail = try await notifier.runDetail(runID) {
                    output = .success(json ? Reports.json(detail) : Self.describe(detail))
                } else {
                    output = .failure(CommandFailure("no run '\(runID)' in the history (see `mcp-push history --runs`)"))
                }
            } else if approvals {
                let records = try await notifier.store.recentApprovals(limit: limit)
                output = .success(json ? Self.json(records) : Self.table(records))
            } else if runs {
                let records = try await notifier.recentRuns(limit: limit)
                output = .success(json ? Reports.json(records) : Self.table(records))
            } else {
                let records = try await notifier.recentDeliveries(limit: limit)
                output = .success(json ? Reports.json(records) : Self.table(records))
            }
        } catch {
            output = .failure(CommandFailure("history unavailable: \(notifier.redact(String(describing: error)))"))
        }
        await notifier.shutdown()
        try Output.finish(output)
    }

    static func table(_ deliveries: [DeliveryRecord]) -> String {
        guard !deliveries.isEmpty else { return "No deliveries recorded yet." }
        let rows = deliveries.map { record in
            [
                Output.age(of: record.at) + " ago", record.channel,
                record.ok ? "ok" : record.queued ? "queued" : "FAILED", "\(record.attempts)",
                "\(record.durationMilliseconds) ms", record.title ?? "", record.error ?? "",
            ]
        }
        return Output.table(header: ["WHEN", "CHANNEL", "RESULT", "ATTEMPTS", "TIME", "TITLE", "ERROR"], rows: rows)
            .joined(separator: "\n")
    }

    static func table(_ runs: [RunRecord]) -> String {
        guard !runs.isEmpty else { return "No runs recorded yet (runs come from notify_event / mcp-push event)." }
        let rows = runs.map { run in
            [
                run.runID, run.outcome ?? run.lastEvent, Output.age(of: run.updatedAt) + " ago",
                duration(run).map { EventFormatter.durationText($0) } ?? "",
                run.lastProgress.map { "\(Int(($0 * 100).rounded()))%" } ?? "", run.lastMessage ?? "",
            ]
        }
        return Output.table(header: ["RUN", "STATE", "UPDATED", "TOOK", "PROGRESS", "LAST MESSAGE"], rows: rows)
            .joined(separator: "\n")
    }

    static func table(_ approvals: [ApprovalRecord]) -> String {
        guard !approvals.isEmpty else { return "No questions asked yet (permission prompts and notify_ask, when approvals are on)." }
        let rows = approvals.map { record in
            [
                Output.age(of: record.createdAt) + " ago", record.agent ?? record.kind, record.title, outcome(record),
                [record.answeredBy, record.answeredVia.map { "(\($0))" }].compactMap { $0 }.joined(separator: " "),
                record.answeredAt.map { EventFormatter.durationText(.milliseconds(Int64($0.timeIntervalSince(record.createdAt) * 1000))) } ?? "",
            ]
        }
        return Output.table(header: ["WHEN", "FROM", "QUESTION", "OUTCOME", "ANSWERED BY", "AFTER"], rows: rows).joined(separator: "\n")
    }

    static func outcome(_ record: ApprovalRecord) -> String {
        switch record.state {
        case .answered: return record.answerLabel ?? "answered"
        case .expired: return "no answer (timed out)"
        case .withdrawn: return "decided in the terminal"
        case .pending: return record.expiresAt < Date() ? "no answer (timed out)" : "waiting"
        }
    }

    static func json(_ approvals: [ApprovalRecord]) -> String {
        let items: [OrderedJSON] = approvals.map { record in
            var members: [(String, OrderedJSON)] = [
                ("id", .string(record.id)), ("kind", .string(record.kind)), ("title", .string(record.title)),
                ("options", .array(record.options.map { .string($0) })), ("state", .string(record.state.rawValue)),
                ("asked_at", .string(RFC3339.format(record.createdAt))), ("expires_at", .string(RFC3339.format(record.expiresAt))),
            ]
            if let agent = record.agent { members.append(("agent", .string(agent))) }
            if let label = record.answerLabel { members.append(("answer", .string(label))) }
            if let by = record.answeredBy { members.append(("answered_by", .string(by))) }
            if let via = record.answeredVia { members.append(("channel", .string(via))) }
            if let at = record.answeredAt { members.append(("closed_at", .string(RFC3339.format(at)))) }
            return .object(members)
        }
        return OrderedJSON.array(items).text
    }

    static func duration(_ run: RunRecord) -> Duration? {
        guard let start = run.startedAt, let end = run.finishedAt else { return nil }
        return .milliseconds(Int64(end.timeIntervalSince(start) * 1000))
    }

    static func describe(_ detail: Reports.RunDetail) -> String {
        var lines = ["Run \(detail.run.runID): \(detail.run.outcome ?? "running (last event: \(detail.run.lastEvent))")"]
        if let took = duration(detail.run) { lines.append("Took: \(EventFormatter.durationText(took))") }
        lines.append("")
        lines += Output.table(
            header: ["AT", "EVENT", "MESSAGE"],
            rows: detail.events.map { [RFC3339.format($0.at), $0.kind.rawValue, $0.message] })
        if !detail.deliveries.isEmpty {
            lines.append("")
            lines.append(table(detail.deliveries))
        }
        return lines.joined(separator: "\n")
    }
}
