import Foundation

/// Runs CPU-heavy synchronous test work on a thread of its own and awaits it.
///
/// A synchronous test runs on the shared cooperative pool, two threads on a two-core machine: two
/// tests computing for seconds there stalled every other test's timers and answers (a 200 ms timeout
/// measured at 4.3 s, 1 s deliveries at 2.4 s, trivial tests finishing after 11 s under the full suite).
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}
