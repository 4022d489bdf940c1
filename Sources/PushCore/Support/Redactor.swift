import Foundation
import Synchronization

/// Removes secrets from every string that leaves the core: results, errors, log lines.
///
/// Channels declare their secrets; values learned later (an access token a service
/// hands out) are added with ``register(_:)``. Each secret is also matched in its
/// percent-encoded forms, because tokens travel in URLs and service errors echo URLs.
public final class Redactor: Sendable {
    public static let placeholder = "***"
    /// Shorter values are not treated as secrets: masking every "1" would mangle messages.
    static let minimumLength = 4

    private let patterns = Mutex<[String]>([])

    public init(secrets: [String] = []) {
        secrets.forEach(register)
    }

    public func register(_ secret: String) {
        let trimmed = secret.trimmingWhitespace()
        guard trimmed.count >= Self.minimumLength else { return }
        var variants: Set<String> = [trimmed]
        variants.insert(PercentEncoding.encode(trimmed))
        if let query = trimmed.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) {
            variants.insert(query)
        }
        patterns.withLock { list in
            for variant in variants where !list.contains(variant) { list.append(variant) }
            // Longest first, so a secret containing another is removed whole.
            list.sort { $0.count > $1.count }
        }
    }

    public func redact(_ text: String) -> String {
        let list = patterns.withLock { $0 }
        guard !list.isEmpty else { return text }
        var result = text
        for secret in list where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: Self.placeholder)
        }
        return result
    }

    public func redact(_ text: String?) -> String? {
        text.map { redact($0) }
    }

    /// How `mcp-push channels` shows a configured value: enough to recognise it, never enough to use it.
    public static func maskValue(_ value: String) -> String {
        guard value.count >= 16 else { return placeholder }
        return placeholder + value.suffix(4)
    }
}
