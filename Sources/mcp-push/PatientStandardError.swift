import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where log lines go: stderr, but never at the price of waiting. A pipe nobody reads fills up (64 KiB), and
/// a blocking write would then hold the server, or the hook, for as long as the reader sleeps; here a line
/// that would wait is dropped instead, and how many were is said once stderr takes lines again.
struct PatientStandardError: TextOutputStream, Sendable {
    private static let dropped = Atomic<Int>(0)

    mutating func write(_ string: String) {
        let missed = Self.dropped.load(ordering: .relaxed)
        if missed > 0, Self.writeNow("mcp-push: \(missed) log line(s) dropped: stderr was not being read\n") {
            Self.dropped.subtract(missed, ordering: .relaxed)
        }
        if !Self.writeNow(string) { Self.dropped.add(1, ordering: .relaxed) }
    }

    /// Writes `text` if stderr can take it without waiting (in pieces a pipe takes whole); false when it
    /// could not, leaving the line cut at a piece.
    private static func writeNow(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            var ready = pollfd(fd: STDERR_FILENO, events: Int16(POLLOUT), revents: 0)
            guard poll(&ready, 1, 0) == 1, ready.revents & Int16(POLLOUT) != 0 else { return false }
            let piece = min(bytes.count - offset, Int(PIPE_BUF))
            let written = bytes[offset..<(offset + piece)].withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, piece) }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}
