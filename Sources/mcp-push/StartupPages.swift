import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Gives back the pages of the executable's code that start-up touched, once a server is up.
///
/// Starting reads across the whole executable (the Swift runtime's conformance scans follow records
/// into every module), and those pages stay mapped, counted in the process's resident memory, for the
/// hours an agent's session lasts. Code pages are never written, so unmapping them loses nothing: they
/// stay in the page cache (shared with every other process using them) and the next call maps back
/// what it uses. Only code mappings of files (`r-xp`: ours and the shared libraries') are released;
/// data, even read-only after relocation, is left alone.
enum StartupPages {
    static func release(after delay: Duration = .seconds(2)) {
        #if os(Linux)
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: delay.seconds)
                guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return }
                // Collected first, released last: code run after the release maps its pages back.
                var ranges: [(start: UnsafeMutableRawPointer, length: Int)] = []
                for line in maps.split(separator: "\n") {
                    // "start-end perms offset dev inode path": code of a file (ours or a shared library's).
                    let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                    guard fields.count >= 6, fields[1] == "r-xp", fields[5].hasPrefix("/") else { continue }
                    let bounds = fields[0].split(separator: "-").compactMap { UInt(String($0), radix: 16) }
                    guard bounds.count == 2, bounds[1] > bounds[0], let start = UnsafeMutableRawPointer(bitPattern: bounds[0]) else { continue }
                    ranges.append((start, Int(bounds[1] - bounds[0])))
                }
                for range in ranges { _ = madvise(range.start, range.length, MADV_DONTNEED) }
            }
        #endif
    }
}
