/// A unified diff of two small texts (settings files), for `install --dry-run`.
enum UnifiedDiff {
    static let context = 3

    static func render(old: String, new: String, name: String) -> String {
        let a = lines(old), b = lines(new)
        var out = ["--- \(name)", "+++ \(name) (after)"]
        // The table below is lines × lines: past a few million cells, say what changes instead of showing it.
        guard a.count * b.count <= 4_000_000 else {
            return (out + ["(too long to show: \(a.count) lines before, \(b.count) after)"]).joined(separator: "\n")
        }
        let operations = diff(a, b)
        // Group the operations into hunks: changes with up to `context` unchanged lines around them.
        var index = 0
        while index < operations.count {
            guard let firstChange = operations[index...].firstIndex(where: { $0.kind != " " }) else { break }
            let start = max(index, firstChange - context)
            var end = firstChange
            while end < operations.count {
                guard let next = operations[end...].firstIndex(where: { $0.kind != " " }) else { break }
                if next - end > 2 * context && end != firstChange { break }
                end = next + 1
            }
            end = min(operations.count, end + context)
            let hunk = operations[start..<end]
            let oldStart = (hunk.first?.oldLine ?? 0) + 1, newStart = (hunk.first?.newLine ?? 0) + 1
            let oldCount = hunk.filter { $0.kind != "+" }.count, newCount = hunk.filter { $0.kind != "-" }.count
            out.append("@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@")
            out += hunk.map { "\($0.kind)\($0.text)" }
            index = end
        }
        return out.joined(separator: "\n")
    }

    private struct Operation {
        let kind: Character
        let text: String
        let oldLine: Int
        let newLine: Int
    }

    private static func lines(_ text: String) -> [String] {
        var split = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if text.hasSuffix("\n") { split.removeLast() }
        return text.isEmpty ? [] : split
    }

    /// Longest common subsequence by dynamic programming: settings files are short.
    private static func diff(_ a: [String], _ b: [String]) -> [Operation] {
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var operations: [Operation] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                operations.append(Operation(kind: " ", text: a[i], oldLine: i, newLine: j))
                i += 1
                j += 1
            } else if j < b.count, i == a.count || table[i][j + 1] >= table[i + 1][j] {
                operations.append(Operation(kind: "+", text: b[j], oldLine: i, newLine: j))
                j += 1
            } else {
                operations.append(Operation(kind: "-", text: a[i], oldLine: i, newLine: j))
                i += 1
            }
        }
        return operations
    }
}
