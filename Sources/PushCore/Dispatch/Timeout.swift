import NIOCore
import NIOPosix
import Synchronization

/// The operation ran past its time.
public struct TimeoutError: Error, Sendable, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "timed out after \(limit.secondsText)" }
}

/// Runs `operation`, cancelling it when `limit` passes. Our operations (HTTP via
/// async-http-client, SMTP via NIO) stop promptly when cancelled, so the caller
/// gets control back at the limit.
///
/// The timer is a NIO scheduled task, not a racing `Task.sleep`: on Linux a cancelled
/// sleep keeps its memory until it would have ended, so one sleep per delivery piled up
/// a timeout's worth of calls (about 12 MiB at 300 calls/s).
func withTimeout<T: Sendable>(
    _ limit: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let work = Task { try await operation() }
    let expiry = Expiry()
    let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(limit)) {
        expiry.passed.store(true, ordering: .releasing)
        work.cancel()
    }
    defer { timer.cancel() }
    do {
        return try await withTaskCancellationHandler {
            try await work.value
        } onCancel: {
            work.cancel()
        }
    } catch {
        if expiry.passed.load(ordering: .acquiring) { throw TimeoutError(limit: limit) }
        throw error
    }
}

private final class Expiry: Sendable {
    let passed = Atomic<Bool>(false)
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

/// `task`'s value, or ``TimeoutError`` once `limit` passes; unlike ``withTimeout(_:_:)`` the task is not
/// cancelled, but left to finish on its own (a database transaction that must not stop halfway).
func waitAtMost<T: Sendable>(_ limit: Duration, for task: Task<T, any Error>) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let answered = Mutex(false)
        let finish: @Sendable (Result<T, any Error>) -> Void = { result in
            let first = answered.withLock { done in
                defer { done = true }
                return !done
            }
            if first { continuation.resume(with: result) }
        }
        let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(limit)) {
            finish(.failure(TimeoutError(limit: limit)))
        }
        Task {
            let result = await task.result
            timer.cancel()
            finish(result)
        }
    }
}
