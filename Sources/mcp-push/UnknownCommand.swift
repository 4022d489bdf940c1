/// A first argument that names no command. Without this, the default command (serve) would
/// take `mcp-push sned` and complain about an unexpected argument.
struct UnknownCommand {
    let word: String
    let suggestion: String?
    let known: [String]

    /// Nil when `word` is a command or an option (options go to the default command).
    init?(_ word: String, known: [String]) {
        guard !word.hasPrefix("-"), !known.contains(word) else { return nil }
        self.word = word
        self.known = known
        let lowered = word.lowercased()
        let nearest = known.map { (name: $0, distance: Self.editDistance(lowered, $0)) }.min { $0.distance < $1.distance }
        // Close enough to be a slip of the fingers: a third of the letters at most (at least one).
        if let nearest, nearest.distance <= max(1, nearest.name.count / 3) {
            suggestion = nearest.name
        } else {
            suggestion = known.first { $0.hasPrefix(lowered) && !lowered.isEmpty }
        }
    }

    var message: String {
        if let suggestion { return "unknown command '\(word)'; did you mean '\(suggestion)'?" }
        return "unknown command '\(word)'; the commands are \(known.filter { $0 != "help" }.joined(separator: ", ")) (see `mcp-push --help`)"
    }

    /// Levenshtein distance, with a swap of two neighbouring letters counting as one edit (sned → send).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
