import ArgumentParser
import Foundation
import PushCore

#if canImport(Glibc)
    import Glibc
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin
    private let systemWrite = Darwin.write
#endif

/// The command line's own output: tables and JSON on stdout.
enum Output {
    static func json(_ result: DispatchResult) -> String { result.jsonText }

    static let resultHeader = ["CHANNEL", "RESULT", "TIME", "ERROR"]

    static func table(_ result: DispatchResult) -> String {
        var lines: [String] = []
        if !result.results.isEmpty {
            lines += table(header: resultHeader, rows: result.results.map(row))
            lines.append("")
        }
        lines.append(summary(result))
        return lines.joined(separator: "\n")
    }

    /// One channel's line of a result table.
    static func row(_ item: ChannelResult) -> [String] {
        let outcome = item.ok ? "ok" : item.queued ? "queued" : "FAILED"
        // The service got a shortened message: say so, or the reader thinks it arrived whole.
        var notes: [String] = []
        if item.parts > 1 { notes.append("in \(item.parts) messages") }
        if item.truncated { notes.append("cut to fit") }
        let result = notes.isEmpty ? outcome : "\(outcome) (\(notes.joined(separator: ", ")))"
        return [item.channel, result, "\(item.durationMilliseconds) ms", item.error ?? ""]
    }

    static func summary(_ result: DispatchResult) -> String {
        "\(result.status.rawValue): \(result.message)"
    }

    /// Problems that did not stop delivery (history not written, say), once each on stderr.
    static func writeWarnings(_ result: DispatchResult) {
        for warning in result.warnings { writeError("mcp-push: warning: \(warning)") }
    }

    /// Whether stdout is a terminal a person watches (rather than a pipe or file a script reads).
    static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Columns padded to their widest cell; the last column is not padded.
    static func table(header: [String], rows: [[String]]) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingWhitespace()
        }
    }

    /// "3m 05s ago" style ages for history and outbox listings.
    static func age(of date: Date, now: Date = Date()) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m \(String(format: "%02d", seconds % 60))s"
        case ..<86400: return "\(seconds / 3600)h \(String(format: "%02d", seconds % 3600 / 60))m"
        default: return "\(seconds / 86400)d \(seconds % 86400 / 3600)h"
        }
    }

    static func write(_ text: String) {
        write(text, to: STDOUT_FILENO)
    }

    static func writeError(_ text: String) {
        write(text, to: STDERR_FILENO)
    }

    /// write(2) rather than FileHandle, whose write traps (SIGILL) when the reader closed the pipe;
    /// a closed output is the reader's choice, not our crash.
    private static func write(_ text: String, to descriptor: Int32) {
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Prints a command's output, or its failure to stderr with exit status 2.
    static func finish(_ output: Result<String, CommandFailure>) throws {
        switch output {
        case .success(let text): write(text)
        case .failure(let failure):
            writeError("mcp-push: \(failure.message)")
            throw ExitCode(2)
        }
    }
}

/// A command that could not do what was asked; its message goes to stderr.
struct CommandFailure: Error {
    let message: String

    init(_ message: String) {
        self.message = message
    }
}

extension Output {
    /// Runs a dispatch and shows its result: line by line as channels answer on a terminal, as one
    /// table at the end for a script, or as JSON. Warnings go to stderr (JSON carries its own).
    static func reporting<Failure: Error>(
        json: Bool, _ dispatch: (Notifier.Progress?) async throws(Failure) -> DispatchResult
    ) async throws(Failure) -> DispatchResult {
        if json {
            let result = try await dispatch(nil)
            write(self.json(result))
            return result
        }
        guard isTerminal else {
            let result = try await dispatch(nil)
            write(table(result))
            writeWarnings(result)
            return result
        }
        let live = LiveResults()
        let result = try await live.run { progress throws(Failure) in try await dispatch(progress) }
        live.finish(result)
        writeWarnings(result)
        return result
    }
}
