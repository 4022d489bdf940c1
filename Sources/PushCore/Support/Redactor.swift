import Foundation
import Synchronization

/// Removes secrets from every string that leaves the core: results, errors, log lines.
///
/// Channels declare their secrets; values learned later (an access token a service
/// hands out) are added with ``register(_:)``. Tokens travel in URLs and service errors echo
/// URLs, in whatever encoding the service chose, so a secret is matched however each of its
/// characters is written: as itself, percent-encoded in upper or lower case, `\/` as JSON
/// escapes a slash, `+` for a space and a space for a `+` (form decoding). A secret configured
/// already percent-encoded (`...%2babc%2f...`) is matched by what it decodes to as well.
public final class Redactor: Sendable {
    public static let placeholder = "***"
    /// Shorter values are not treated as secrets: masking every "1" would mangle messages.
    static let minimumLength = 4

    /// Each secret's bytes as they mean (decoded), longest first so a secret containing another
    /// is removed whole.
    private let patterns = Mutex<[[UInt8]]>([])

    public init(secrets: [String] = []) {
        secrets.forEach(register)
    }

    public func register(_ secret: String) {
        let trimmed = secret.trimmingWhitespace()
        guard trimmed.count >= Self.minimumLength else { return }
        var variants = [Array(trimmed.utf8)]
        if let decoded = Self.percentDecoded(Array(trimmed.utf8)), decoded != variants[0] { variants.append(decoded) }
        patterns.withLock { list in
            for variant in variants where !list.contains(variant) { list.append(variant) }
            list.sort { $0.count > $1.count }
        }
    }

    public func redact(_ text: String) -> String {
        let list = patterns.withLock { $0 }
        guard !list.isEmpty else { return text }
        var bytes = Array(text.utf8)
        var changed = false
        for pattern in list {
            // Most texts hold no secret: look first, copy only when there is something to mask.
            guard let first = bytes.indices.first(where: { Self.match(pattern, in: bytes, at: $0) != nil }) else { continue }
            var output = Array(bytes[..<first])
            var index = first
            var found = false
            while index < bytes.count {
                if let length = Self.match(pattern, in: bytes, at: index) {
                    output.append(contentsOf: Self.placeholder.utf8)
                    index += length
                    found = true
                } else {
                    output.append(bytes[index])
                    index += 1
                }
            }
            if found {
                bytes = output
                changed = true
            }
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    public func redact(_ text: String?) -> String? {
        text.map { redact($0) }
    }

    /// The length of `text`'s bytes from `start` that spell `pattern` in any of the encodings above.
    static func match(_ pattern: [UInt8], in text: [UInt8], at start: Int) -> Int? {
        var position = start
        for expected in pattern {
            guard position < text.count else { return nil }
            let byte = text[position]
            if byte == expected {
                position += 1
            } else if byte == UInt8(ascii: "%"), position + 2 < text.count,
                let value = hexValue(text[position + 1], text[position + 2]), value == expected
            {
                position += 3
            } else if expected == UInt8(ascii: "/"), byte == UInt8(ascii: "\\"), position + 1 < text.count,
                text[position + 1] == UInt8(ascii: "/")
            {
                position += 2
            } else if (expected == UInt8(ascii: " ") && byte == UInt8(ascii: "+"))
                || (expected == UInt8(ascii: "+") && byte == UInt8(ascii: " "))
            {
                position += 1
            } else {
                return nil
            }
        }
        return position - start
    }

    private static func hexValue(_ high: UInt8, _ low: UInt8) -> UInt8? {
        func digit(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        guard let high = digit(high), let low = digit(low) else { return nil }
        return high << 4 | low
    }

    /// `bytes` with `%hh` sequences decoded; nil when there are none.
    private static func percentDecoded(_ bytes: [UInt8]) -> [UInt8]? {
        var output: [UInt8] = []
        var index = 0
        var decodedAny = false
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count, let value = hexValue(bytes[index + 1], bytes[index + 2]) {
                output.append(value)
                index += 3
                decodedAny = true
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return decodedAny ? output : nil
    }

    /// How `mcp-push channels` shows a configured value: enough to recognise it, never enough to use it.
    public static func maskValue(_ value: String) -> String {
        guard value.count >= 16 else { return placeholder }
        return placeholder + value.suffix(4)
    }
}
