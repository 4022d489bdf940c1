import Foundation
import JSONText
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// MCP's stdio transport (every revision's basic/transports stdio): newline-delimited JSON-RPC on
/// two file descriptors, nothing but protocol on the output.
///
/// Reads on a thread of its own with blocking reads, so a request is handled the moment it
/// arrives (no polling), and counts what is under way so that when the client closes its end the
/// server finishes what it was asked before returning.
public struct StdioTransport: Sendable {
    let input: Int32
    let output: Int32
    let logger: Logger

    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO, logger: Logger) {
        self.input = input
        self.output = output
        self.logger = logger
    }

    /// Serves `server` until the input ends, then waits (up to `drainTimeout`) for the requests under way.
    public func serve(_ server: MCPServer, drainTimeout: Duration) async {
        // A client that goes away must not kill us with SIGPIPE; the write reports EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        let connection = MCPConnection(server: server)
        let writer = LineWriter(fd: output, logger: logger)
        let reader = LineReader(fd: input, connection: connection, writer: writer, logger: logger)
        // The reader thread reads, parses and admits each line itself, in order, and answers what needs
        // no work on the spot: an `initialize` is answered without a hop through the task pool.
        await withCheckedContinuation { (ended: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                reader.run()
                ended.resume()
            }
            thread.name = "mcp-stdin"
            thread.start()
        }
        let clock = ContinuousClock()
        let deadline = clock.now + drainTimeout
        while connection.unfinished > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Writes whole lines; concurrent answers never interleave.
final class LineWriter: Sendable {
    private let fd: Int32
    private let logger: Logger
    private let lock = Mutex(())

    init(fd: Int32, logger: Logger) {
        self.fd = fd
        self.logger = logger
    }

    func write(_ message: OrderedJSON) {
        var framed = message.bytes
        framed.append(UInt8(ascii: "\n"))
        lock.withLock { _ in
            framed.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR || errno == EAGAIN { continue }
                        // The client is gone (EPIPE): nothing can be answered any more; the input ends soon.
                        logger.debug("stdout write failed: \(String(cString: strerror(errno)))")
                        return
                    }
                    offset += written
                }
            }
        }
    }
}

/// Reads lines from a file descriptor on its own thread and hands each to the connection.
private struct LineReader: Sendable {
    let fd: Int32
    let connection: MCPConnection
    let writer: LineWriter
    let logger: Logger

    func run() {
        var splitter = LineSplitter()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let send: Sink = { [writer] message in writer.write(message) }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                logger.error("stdin read failed: \(String(cString: strerror(errno)))")
                break
            }
            if count == 0 { break }
            splitter.feed(buffer[..<count], tooLong: {
                let reason = "a line on stdin is longer than \(LineSplitter.maximumLine >> 20) MiB; dropped (no MCP message is that long)"
                logger.error("\(reason)")
                writer.write(Outgoing.error(.parseError(reason), id: nil))
            }) { line in
                do throws(JSONParseError) {
                    connection.dispatch(try OrderedJSON.parse(line), send: send, write: writer.write)
                } catch {
                    logger.warning("refused a line on stdin: \(error)")
                    writer.write(MCPConnection.parseError(error))
                }
            }
        }
        logger.debug("stdin closed")
    }
}

/// Cuts a byte stream into newline-delimited messages (a trailing CR is dropped, blank
/// lines are skipped). Only the unfinished last line is kept between reads, in a buffer
/// that is reused: a server reading for days must not hold what it has already handled.
struct LineSplitter {
    /// The longest line kept: a longer one is dropped whole (and reported), not buffered without end.
    static let maximumLine = 16 << 20

    private var pending: [UInt8] = []
    /// How much of `pending` is known to hold no newline: each read is scanned once, not the
    /// whole unfinished line again (a 100 MB line took 54 s when every read rescanned it).
    private var scanned = 0
    /// Inside a line that went past ``maximumLine``: its rest is skipped up to the newline.
    private var discarding = false

    /// Bytes of an unfinished line waiting for the rest of it.
    var buffered: Int { pending.count }
    /// What the buffer holds on to, for tests: bounded by the longest line and read.
    var retainedCapacity: Int { pending.capacity }

    /// Feeds a read; `emit` gets each complete line, `tooLong` each line dropped for its length.
    mutating func feed(_ bytes: some Collection<UInt8>, tooLong: () -> Void = {}, _ emit: (ArraySlice<UInt8>) -> Void) {
        pending.append(contentsOf: bytes)
        var start = 0
        while let newline = pending[(start + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
            scanned = 0
            if discarding {
                discarding = false
                start = newline + 1
                continue
            }
            var end = newline
            if end > start, pending[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            if end - start > Self.maximumLine {
                tooLong()
            } else if end > start {
                emit(pending[start..<end])
            }
            start = newline + 1
        }
        pending.removeFirst(start)
        scanned = pending.count
        if pending.count > Self.maximumLine {
            if !discarding { tooLong() }
            discarding = true
            pending.removeAll(keepingCapacity: false)
            scanned = 0
        }
    }
}
