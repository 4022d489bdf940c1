import Foundation
import PushCore

/// What the phone shows of a tool call waiting for permission: the tool and a short preview of
/// its input, with configured secrets and anything shaped like a password or token masked. A chat
/// is not the place for a command's credentials.
public enum ApprovalPreview {
    /// Characters of the input shown: enough to judge a command, short enough for a lock screen.
    static let maximumCharacters = 600
    static let mask = "•••"

    /// The preview of `input` (the agent's `tool_input`) for tool `tool`.
    public static func text(tool: String, input: JSONValue?, redact: (String) -> String) -> String {
        var text: String
        switch input {
        case .object(let members):
            // The field that says what the call does, when there is one; else every field.
            if let main = ["command", "file_path", "path", "url", "pattern", "query"].lazy.compactMap({ members[$0]?.string }).first,
                members.count <= 2 || tool == "Bash"
            {
                text = main
            } else {
                text = members.sorted { $0.key < $1.key }.map { "\($0.key): \(isSecretName($0.key) ? mask : shortText($0.value))" }.joined(separator: "\n")
            }
        case .string(let value): text = value
        case nil, .null: text = ""
        case let other?: text = shortText(other)
        }
        // Masking looks at a bounded text: a 4 MB tool input must not hold the hook up.
        text = visible(maskSecretShapes(redact(String(text.prefix(4 * maximumCharacters)))))
        if text.count > maximumCharacters { text = String(text.prefix(maximumCharacters)) + " …" }
        return text
    }

    static func shortText(_ value: JSONValue) -> String {
        if let string = value.string { return string }
        if case .object(let members) = value {
            return "{" + members.sorted { $0.key < $1.key }.map { "\($0.key): \(isSecretName($0.key) ? mask : shortText($0.value))" }.joined(separator: ", ") + "}"
        }
        if case .array(let items) = value { return "[" + items.map(shortText).joined(separator: ", ") + "]" }
        return value.text
    }

    static func isSecretName(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return ["password", "passwd", "secret", "token", "apikey", "api_key", "api-key", "authorization", "credential", "private_key", "cookie"]
            .contains { lowered.contains($0) }
    }

    /// `password=…`, `--token …`, `Authorization: Bearer …`, URL credentials, and long
    /// random-looking words (API keys) are masked, whatever tool they appear in.
    static func maskSecretShapes(_ text: String) -> String {
        var result = text
        let rules: [(Regex<AnyRegexOutput>, String)] = [
            (try! Regex(#"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}"#), "$1 \(mask)"),
            (try! Regex(#"(?i)((?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|auth)[A-Za-z_-]*\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;|]+)"#), "$1\(mask)"),
            (try! Regex(#"(?i)(--?(?:pass(?:word)?|token|secret|api-?key|auth)[a-z-]*[ =])("[^"]*"|'[^']*'|\S+)"#), "$1\(mask)"),
            (try! Regex(#"(://[^/\s:@]+:)[^@\s/]+@"#), "$1\(mask)@"),
        ]
        for (pattern, template) in rules {
            result = replace(result, pattern, template)
        }
        // Long words mixing letters and digits are keys far more often than they are words.
        result = result.replacing(try! Regex(#"[A-Za-z0-9_+/=-]{24,}"#)) { match in
            let word = String(result[match.range])
            let hasDigit = word.contains(where: \.isNumber)
            let hasLetter = word.contains(where: \.isLetter)
            let isPath = word.contains("/") && !word.contains("=") && word.split(separator: "/").allSatisfy { $0.count < 24 }
            return hasDigit && hasLetter && !isPath ? String(word.prefix(4)) + mask : word
        }
        return result
    }

    /// Control and direction-changing characters shown as their code, not obeyed: a command must not
    /// be able to reorder or hide what the phone shows of it (U+202E turns "exe.txt" into "txt.exe").
    public static func visible(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let hidden =
                (value < 0x20 && scalar != "\n" && scalar != "\t") || value == 0x7F || (0x80...0x9F).contains(value)
                || (0x200B...0x200F).contains(value) || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
                || value == 0x061C || value == 0xFEFF
            if hidden {
                result += "<U+" + String(value, radix: 16, uppercase: true) + ">"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `template`'s `$1` is the first group.
    private static func replace(_ text: String, _ pattern: Regex<AnyRegexOutput>, _ template: String) -> String {
        text.replacing(pattern) { match in
            let first = match.output.count > 1 ? match.output[1].substring.map(String.init) ?? "" : ""
            return template.replacingOccurrences(of: "$1", with: first)
        }
    }
}
