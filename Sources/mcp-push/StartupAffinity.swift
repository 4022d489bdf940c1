import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps start-up on the processor it began on, for its first moments.
///
/// Starting is a chain of hand-offs between threads (the main thread, the task pool, the stdin
/// reader, the store's thread), each waking the next. Spread over two processors, every hand-off
/// wakes the other one; on the machines we measure on (virtual processors that halt when idle)
/// each such wake-up cost 1 to 2 ms, and spawn → `initialize` took 14.5 ms instead of 7.8 ms, the
/// first send 26.5 ms instead of 12.6 ms (docs/PERFORMANCE.md). Threads inherit the pin from the
/// thread that creates them; after `window`, every thread of the process gets the original set back,
/// so a server's calls use every processor.
enum StartupAffinity {
    #if os(Linux)
        // glibc's scheduling calls, which its Swift module hides behind _GNU_SOURCE: looked up by name.
        private typealias GetCPU = @convention(c) () -> Int32
        private typealias Affinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
        private typealias GetPolicy = @convention(c) (pid_t) -> Int32
        private typealias SetPolicy = @convention(c) (pid_t, Int32, UnsafeMutableRawPointer) -> Int32
        private static let sched_other: Int32 = 0
        private static let sched_batch: Int32 = 3
        private static let sched_idle: Int32 = 5

        private static func function<T>(_ name: String, as type: T.Type) -> T? {
            dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: type) }
        }

        private struct Pin {
            /// The processors the process was given.
            var original: cpu_set_t
            /// The one start-up runs on.
            var processor: Int32
            /// The process's scheduling policy, which work beside the pin leaves for SCHED_IDLE until the window ends.
            var policy: Int32
            var windowOpen = true

            /// Work beside the pin runs at SCHED_IDLE only when the process has an ordinary policy to
            /// give it back at the window's end (not under `chrt --idle`, a real-time policy, ...).
            var lendsIdlePolicy: Bool { policy == StartupAffinity.sched_other || policy == StartupAffinity.sched_batch }
        }

        /// Set while start-up is pinned and after (nil without a pin).
        private static let pin = Mutex<Pin?>(nil)
    #endif

    /// Gives the calling thread the original processors back, before it starts a process that must
    /// not inherit the pin: the background sender, which would otherwise share this processor (with
    /// the hook still exiting on it, while the other stays idle) and keep the pin for life.
    static func releaseThisThread() {
        #if os(Linux)
            guard var set = pin.withLock({ $0?.original }),
                let sched_setaffinity = function("sched_setaffinity", as: Affinity.self)
            else { return }
            _ = sched_setaffinity(0, MemoryLayout<cpu_set_t>.size, &set)
        #endif
    }

    /// Starts `work` on a thread of its own, on the process's other processors while the window is
    /// open, and there only when they have nothing else to run (SCHED_IDLE, inherited by the threads
    /// it starts: the agent talking to us shares those processors). Returns whether it did: not
    /// without a pin or another processor, where work that pays ahead for what the pinned threads
    /// will need would only take their processor from them.
    static func runBesidePinned(_ work: @escaping @Sendable () -> Void) -> Bool {
        #if os(Linux)
            guard let (original, pinned) = pin.withLock({ pin in pin.flatMap { $0.windowOpen ? ($0.original, $0.processor) : nil } }),
                let sched_setaffinity = function("sched_setaffinity", as: Affinity.self),
                let sched_setscheduler = function("sched_setscheduler", as: SetPolicy.self)
            else { return false }
            var others = original
            withUnsafeMutableBytes(of: &others) { bits in bits[Int(pinned) / 8] &= ~UInt8(1 << (Int(pinned) % 8)) }
            guard withUnsafeBytes(of: &others, { $0.contains { $0 != 0 } }) else { return false }
            let besides = others
            Thread.detachNewThread {
                // Under the lock, so that the window's end, which gives every thread its processors and policy
                // back, comes after; once it has come, the work runs as any thread would.
                pin.withLock { pin in
                    guard let pin, pin.windowOpen else { return }
                    var set = besides
                    _ = sched_setaffinity(0, MemoryLayout<cpu_set_t>.size, &set)
                    guard pin.lendsIdlePolicy else { return }
                    var priority: Int32 = 0
                    _ = sched_setscheduler(0, sched_idle, &priority)
                }
                work()
            }
            return true
        #else
            return false
        #endif
    }

    static func pin(for window: Duration = .milliseconds(150)) {
        #if os(Linux)
            guard let sched_getcpu = function("sched_getcpu", as: GetCPU.self),
                let sched_getaffinity = function("sched_getaffinity", as: Affinity.self),
                let sched_setaffinity = function("sched_setaffinity", as: Affinity.self),
                let sched_getscheduler = function("sched_getscheduler", as: GetPolicy.self),
                let sched_setscheduler = function("sched_setscheduler", as: SetPolicy.self)
            else { return }
            var original = cpu_set_t()
            let size = MemoryLayout<cpu_set_t>.size
            let cpu = sched_getcpu()
            guard cpu >= 0, cpu < size * 8, sched_getaffinity(0, size, &original) == 0 else { return }
            var one = cpu_set_t()
            withUnsafeMutableBytes(of: &one) { bits in bits[Int(cpu) / 8] |= UInt8(1 << (Int(cpu) % 8)) }
            guard sched_setaffinity(0, size, &one) == 0 else { return }
            let state = Pin(original: original, processor: cpu, policy: sched_getscheduler(0))
            pin.withLock { $0 = state }
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: window.seconds)
                pin.withLock { $0?.windowOpen = false }
                // Twice: a thread created while the first pass ran may have inherited the pin.
                for _ in 0..<2 {
                    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
                    for task in tasks.compactMap({ pid_t($0) }) {
                        var set = state.original
                        _ = sched_setaffinity(task, size, &set)
                        if state.lendsIdlePolicy && sched_getscheduler(task) == sched_idle {
                            var priority: Int32 = 0
                            _ = sched_setscheduler(task, state.policy, &priority)
                        }
                    }
                    Thread.sleep(forTimeInterval: 0.01)
                }
            }
        #endif
    }
}
