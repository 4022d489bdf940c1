import Foundation
import PushCore

/// The command line's own output: tables and JSON on stdout.
enum Output {
    static func json(_ result: DispatchResult) -> String { result.jsonText }

    static func table(_ result: DispatchResult) -> String {
        var lines: [String] = []
        if !result.results.isEmpty {
            let rows = result.results.map { item in
                [item.channel, item.ok ? "ok" : "FAILED", "\(item.durationMilliseconds) ms", item.error ?? ""]
            }
            lines += table(header: ["CHANNEL", "RESULT", "TIME", "ERROR"], rows: rows)
            lines.append("")
        }
        lines.append("\(result.status.rawValue): \(result.message)")
        return lines.joined(separator: "\n")
    }

    /// Columns padded to their widest cell; the last column is not padded.
    static func table(header: [String], rows: [[String]]) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
