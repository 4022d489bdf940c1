/// The operation ran past its time.
public struct TimeoutError: Error, Sendable, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "timed out after \(limit.secondsText)" }
}

/// Runs `operation`, cancelling it when `limit` passes. Our operations (HTTP via
/// async-http-client, SMTP via NIO) stop promptly when cancelled, so the caller
/// gets control back at the limit.
func withTimeout<T: Sendable>(
    _ limit: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError(limit: limit)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

extension Duration {
    /// `15 s`, `2.5 s`, `800 ms`.
    public var secondsText: String {
        let milliseconds = self.milliseconds
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        return "\(Double(milliseconds) / 1000) s"
    }

    public var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
