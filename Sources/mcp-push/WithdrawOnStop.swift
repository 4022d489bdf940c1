import Foundation
import PushCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Withdraws the question this process is asking when it is told to stop (SIGTERM, SIGINT, SIGHUP:
/// an agent stopping its hook because the person answered in the terminal, Ctrl-C on `ask`), then
/// exits with `status`: a later answer from the phone is told it was decided already.
/// Unchecked: the dispatch sources are set once, here, and only cancelled after (Dispatch is thread-safe).
final class WithdrawOnStop: @unchecked Sendable {
    private let questionID = Mutex<String?>(nil)
    private var sources: [any DispatchSourceSignal] = []

    init(store: any StateStore, exitStatus: Int32) {
        sources = [SIGTERM, SIGINT, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                if let id = questionID.withLock({ $0 }) {
                    // A Dispatch thread, not one of Swift's: it may wait (briefly) for the store.
                    let closed = DispatchSemaphore(value: 0)
                    Task {
                        _ = try? await store.closeApproval(id: id, as: .withdrawn, now: Date())
                        closed.signal()
                    }
                    _ = closed.wait(timeout: .now() + 2)
                }
                _exit(exitStatus)
            }
            source.resume()
            return source
        }
    }

    /// The question now being asked (`Approver.ask`'s `created`).
    func asked(_ id: String) { questionID.withLock { $0 = id } }

    func cancel() { sources.forEach { $0.cancel() } }
}
