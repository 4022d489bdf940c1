import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs blocking start-up work (opening the database, starting the HTTP client's event loops)
/// on a thread of its own. On the cooperative pool (two threads on a two-core machine) those
/// milliseconds-long jobs held both threads while the first MCP request waited behind them.
/// `yielding`: the thread runs at a lower priority, so the first answer goes out before it (threads
/// it starts would inherit that priority, so not for work that starts threads).
func onOwnThread<T: Sendable>(yielding: Bool = false, _ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            #if canImport(Glibc)
                // On Linux the nice value is per thread, and PRIO_PROCESS 0 names the calling thread.
                if yielding { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10) }
            #endif
            continuation.resume(returning: work())
        }
    }
}
