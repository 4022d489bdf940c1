import Foundation

/// Runs blocking start-up work (opening the database, starting the HTTP client's event loops)
/// on a thread of its own. On the cooperative pool (two threads on a two-core machine) those
/// milliseconds-long jobs held both threads while the first MCP request waited behind them.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}
