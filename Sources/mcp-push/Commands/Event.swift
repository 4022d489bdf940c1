import ArgumentParser
import Foundation
import PushCore

struct Event: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event",
        abstract: "Report a run event (start, update, end, error), as the notify_event tool does.",
        discussion: """
            By default only end and error events are pushed (MCP_PUSH_EVENTS=all pushes every kind). The \
            elapsed time is shown when this process saw the run's start event. Exit status: 0 success or \
            skipped, 1 partial success, 2 error.

            Examples:
              mcp-push event --run-id nightly-42 --event end --message "Nightly build passed"
              mcp-push event --run-id train-7 --event error --message "OOM at epoch 3" --data '{"error_code": 137, "step": "epoch 3"}'
              mcp-push event --run-id deploy --event end --message "Live" --data '{"artifact_url": "https://example.com/build/42"}' --json
            """)

    @Option(name: .customLong("run-id"), help: "Identifies the run across its events.")
    var runID: String

    @Option(help: "start, update, end or error.")
    var event: String

    @Option(name: .shortAndLong, help: "What happened.")
    var message: String

    @Option(help: "Details as a JSON object: progress (0 to 1), step, artifact_url, error_code, other keys.")
    var data: String?

    @Option(help: "When it happened (RFC 3339). (default: now)")
    var timestamp: String?

    @Option(help: "How --message is read: text (as written) or markdown.")
    var format: Format = .text

    @Option(help: "How urgent the pushed message is. (default: success for end, error for error, else info)")
    var level: Level?

    @Option(help: "An http(s) link the notification opens. (default: data's artifact_url when it is one)")
    var url: String?

    @Option(name: .long, help: "Send only to this channel id; repeat for several.")
    var channel: [String] = []

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var options: CommandOptions

    func validate() throws {
        guard RunEvent.Kind(rawValue: event) != nil else {
            throw ValidationError("--event must be one of \(RunEvent.Kind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(event)'")
        }
        if let data, JSONValue.decode(Data(data.utf8))?.object == nil {
            throw ValidationError("--data must be a JSON object, e.g. '{\"progress\": 0.5}'")
        }
        if let timestamp, RFC3339.parse(timestamp) == nil {
            throw ValidationError("--timestamp must be RFC 3339, e.g. 2026-11-24T09:30:00Z")
        }
    }

    func run() async throws {
        let runtime = try Runtime.start(options)
        let details = data.flatMap { JSONValue.decode(Data($0.utf8))?.object } ?? [:]
        var runEvent = RunEvent(
            runID: runID, kind: RunEvent.Kind(rawValue: event)!, message: message, data: details,
            timestamp: timestamp.flatMap(RFC3339.parse) ?? Date())
        runEvent.level = level
        runEvent.url = url
        runEvent.format = format
        let channels = channel.isEmpty ? nil : channel
        let result: DispatchResult
        do {
            result = try await Output.reporting(json: json) { progress throws(InputError) in
                try await runtime.sending { notifier throws(InputError) in
                    try await notifier.event(runEvent, channels: channels, progress: progress)
                }
            }
        } catch {
            Output.writeError("mcp-push: \(error.description)")
            throw ExitCode(2)
        }
        throw result.exitCode
    }
}
