import Foundation

/// Parses a `config.sh` of `export KEY="value"` lines without running a shell.
///
/// Understands what such files contain in practice: `export` or bare assignments,
/// single quotes (literal), double quotes (with `\"`, `\\`, `\$` and `` \` `` escapes,
/// and values spanning several lines), unquoted values, and `#` comments. `$name`
/// is never expanded: webhook templates rely on a literal `$title`.
enum ConfigFile {
    static func read(path: String) throws(ConfigurationError) -> [String: String] {
        let text: String
        do {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw ConfigurationError.unreadableFile(path, "it is a directory; expected a config.sh file (MCP_PUSH_CONFIG names the file itself)")
            }
            // FileHandle rather than String(contentsOfFile:): it also reads /dev/null and pipes.
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw ConfigurationError.unreadableFile(path, FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
            }
            defer { try? handle.close() }
            guard let decoded = String(data: try handle.readToEnd() ?? Data(), encoding: .utf8) else {
                throw ConfigurationError.unreadableFile(path, "not UTF-8 text")
            }
            text = decoded
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw .unreadableFile(path, error.localizedDescription)
        }
        do {
            return try parse(text)
        } catch let error as ParseError {
            throw .unreadableFile(path, "line \(error.line): \(error.reason)")
        } catch {
            throw .unreadableFile(path, "\(error)")
        }
    }

    struct ParseError: Error, Equatable {
        let line: Int
        let reason: String
    }

    static func parse(_ text: String) throws -> [String: String] {
        var result: [String: String] = [:]
        var scanner = Scanner(Array(text.unicodeScalars))
        while !scanner.isAtEnd {
            scanner.skip(while: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == ";" })
            if scanner.isAtEnd { break }
            if scanner.peek == "#" {
                scanner.skipLine()
                continue
            }
            let statementLine = scanner.line
            var word = scanner.readWord()
            // `export NAME=`, and the other ways shells declare a variable: `declare -x`, `typeset -rx`,
            // `readonly`, with their flags. Each assigns like a plain `NAME=`.
            if Self.declarationWords.contains(word) {
                scanner.skip(while: { $0 == " " || $0 == "\t" })
                while scanner.peek == "-" {
                    scanner.skip(while: { $0 != " " && $0 != "\t" && $0 != "\n" })
                    scanner.skip(while: { $0 == " " || $0 == "\t" })
                }
                word = scanner.readWord()
            }
            guard scanner.peek == "=", isValidName(word) else {
                // Not an assignment (a command, `set -a`, a function): ignore the line, as we never execute.
                scanner.skipLine()
                continue
            }
            scanner.advance()
            let value = try scanner.readValue(startLine: statementLine)
            result[word] = value
            scanner.skipTrailing()
        }
        return result
    }

    static let declarationWords: Set<String> = ["export", "declare", "typeset", "readonly", "local"]

    static func isValidName(_ word: String) -> Bool {
        guard let first = word.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return word.unicodeScalars.allSatisfy(isNameScalar)
    }

    static func isNameScalar(_ c: Unicode.Scalar) -> Bool {
        c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
    }

    struct Scanner {
        let scalars: [Unicode.Scalar]
        var index = 0
        var line = 1

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var isAtEnd: Bool { index >= scalars.count }
        var peek: Unicode.Scalar? { isAtEnd ? nil : scalars[index] }

        mutating func advance() {
            if scalars[index] == "\n" { line += 1 }
            index += 1
        }

        mutating func skip(while predicate: (Unicode.Scalar) -> Bool) {
            while let c = peek, predicate(c) { advance() }
        }

        mutating func skipLine() {
            skip(while: { $0 != "\n" })
        }

        mutating func readWord() -> String {
            var word = String.UnicodeScalarView()
            while let c = peek, ConfigFile.isNameScalar(c) {
                word.append(c)
                advance()
            }
            return String(word)
        }

        /// After a value: allow spaces and a comment, then the line must end.
        mutating func skipTrailing() {
            skip(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if peek == "#" { skipLine() }  // a `;` is left for the statement loop: `export A=1; export B=2`
        }

        mutating func readValue(startLine: Int) throws -> String {
            var value = String.UnicodeScalarView()
            while let c = peek {
                switch c {
                case "'":
                    advance()
                    while true {
                        guard let q = peek else { throw ParseError(line: startLine, reason: "unclosed single quote") }
                        advance()
                        if q == "'" { break }
                        value.append(q)
                    }
                case "\"":
                    advance()
                    while true {
                        guard let q = peek else { throw ParseError(line: startLine, reason: "unclosed double quote") }
                        advance()
                        if q == "\"" { break }
                        if q == "\\", let next = peek, ["\"", "\\", "$", "`", "\n"].contains(next) {
                            advance()
                            if next != "\n" { value.append(next) }  // backslash-newline continues the line
                            continue
                        }
                        value.append(q)
                    }
                case "\\":
                    advance()
                    if let next = peek {
                        advance()
                        if next != "\n" { value.append(next) }
                    }
                case " ", "\t", "\n", "\r", ";":
                    return String(value)
                case "#" where value.isEmpty:
                    return String(value)
                default:
                    value.append(c)
                    advance()
                }
            }
            return String(value)
        }
    }
}
