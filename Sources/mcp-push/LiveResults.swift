import PushCore
import Synchronization

/// A result table written as it happens, for a person at a terminal: each channel's line when
/// that channel finishes, and every few seconds a note naming the channels still waited for, so
/// one hanging service does not look like a hung command. Scripts (stdout not a terminal) get the
/// whole table at the end instead (``Output/table(_:)``).
final class LiveResults: Sendable {
    /// How often a note names the channels still waited for.
    static let noteInterval = Duration.seconds(3)

    private struct State {
        var printed: Set<ChannelID> = []
        /// Nil until the first channel finishes (the dispatcher names the rest then).
        var waiting: [ChannelID]?
        var finished = false

        /// The header goes out with the first line, so a call that sends nothing prints only its summary.
        mutating func lines(_ rows: [[String]], _ format: ([String]) -> String) {
            if printed.isEmpty && !rows.isEmpty { Output.write(format(Output.resultHeader)) }
            for row in rows {
                printed.insert(row[0])
                Output.write(format(row))
            }
        }
    }

    private let state = Mutex(State())
    private let started = ContinuousClock.now
    /// Fixed widths, since later lines cannot widen earlier ones: every channel id fits.
    private let widths = [
        max(Output.resultHeader[0].count, ChannelCatalogue.ids.map(\.count).max() ?? 0), "queued".count, "00000 ms".count,
    ]

    /// Runs `body` (a send) with the progress callback to give it, writing a note every
    /// ``noteInterval`` while channels are still out.
    func run<T, Failure: Error>(_ body: (@escaping Notifier.Progress) async throws(Failure) -> T) async throws(Failure) -> T {
        let notes = Task { [self] in
            while true {
                do { try await Task.sleep(for: Self.noteInterval) } catch { return }
                writeNote()
            }
        }
        defer { notes.cancel() }
        return try await body { [self] finished, waiting in written(finished, waiting: waiting) }
    }

    /// Ends the table: lines for channels that were never sent to (misconfigured, say), then the summary.
    func finish(_ result: DispatchResult) {
        let anyLines = state.withLock { state in
            state.finished = true
            state.lines(result.results.filter { !state.printed.contains($0.channel) }.map(Output.row), line)
            return !state.printed.isEmpty
        }
        Output.write((anyLines ? "\n" : "") + Output.summary(result))
    }

    private func written(_ finished: ChannelResult, waiting: [ChannelID]) {
        state.withLock { state in
            state.waiting = waiting
            state.lines([Output.row(finished)], line)
        }
    }

    private func writeNote() {
        let seconds = Int((ContinuousClock.now - started).components.seconds)
        state.withLock { state in
            guard !state.finished else { return }
            let names = state.waiting.map { $0.joined(separator: ", ") } ?? "the services"
            guard !(state.waiting?.isEmpty ?? false) else { return }
            Output.write("… still waiting for \(names) (\(seconds) s)")
        }
    }

    /// Cells padded to the fixed widths (a longer cell pushes the rest along rather than being cut).
    private func line(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            guard index < widths.count, cell.count < widths[index] else { return cell }
            return cell + String(repeating: " ", count: widths[index] - cell.count)
        }.joined(separator: "  ").trimmingWhitespace()
    }
}
