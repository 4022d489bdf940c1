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
        // glibc's affinity calls, which its Swift module hides behind _GNU_SOURCE: looked up by name.
        private typealias GetCPU = @convention(c) () -> Int32
        private typealias Affinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32

        private static func function<T>(_ name: String, as type: T.Type) -> T? {
            dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: type) }
        }
    #endif

    #if os(Linux)
        /// The processors the process was given, while the pin holds (nil before and without one).
        private static let originalSet = Mutex<cpu_set_t?>(nil)
    #endif

    /// Gives the calling thread the original processors back, before it starts a process that must
    /// not inherit the pin: the background sender, which would otherwise share this processor (with
    /// the hook still exiting on it, while the other stays idle) and keep the pin for life.
    static func releaseThisThread() {
        #if os(Linux)
            guard var set = originalSet.withLock({ $0 }),
                let sched_setaffinity = function("sched_setaffinity", as: Affinity.self)
            else { return }
            _ = sched_setaffinity(0, MemoryLayout<cpu_set_t>.size, &set)
        #endif
    }

    static func pin(for window: Duration = .milliseconds(150)) {
        #if os(Linux)
            guard let sched_getcpu = function("sched_getcpu", as: GetCPU.self),
                let sched_getaffinity = function("sched_getaffinity", as: Affinity.self),
                let sched_setaffinity = function("sched_setaffinity", as: Affinity.self)
            else { return }
            var original = cpu_set_t()
            let size = MemoryLayout<cpu_set_t>.size
            let cpu = sched_getcpu()
            guard cpu >= 0, cpu < size * 8, sched_getaffinity(0, size, &original) == 0 else { return }
            var one = cpu_set_t()
            withUnsafeMutableBytes(of: &one) { bits in bits[Int(cpu) / 8] |= UInt8(1 << (Int(cpu) % 8)) }
            guard sched_setaffinity(0, size, &one) == 0 else { return }
            let restore = original
            originalSet.withLock { $0 = restore }
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: window.seconds)
                // Twice: a thread created while the first pass ran may have inherited the pin.
                for _ in 0..<2 {
                    var set = restore
                    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
                    for task in tasks.compactMap({ pid_t($0) }) { _ = sched_setaffinity(task, size, &set) }
                    Thread.sleep(forTimeInterval: 0.01)
                }
            }
        #endif
    }
}
