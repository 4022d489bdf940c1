import Foundation
import Logging
import MCP
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// MCP's stdio transport: newline-delimited JSON-RPC on two file descriptors.
///
/// The SDK's `StdioTransport` polls a non-blocking stdin every 10 ms, which adds up to
/// 10 ms to every request; this one reads on a dedicated thread with blocking reads, so
/// a request is handled the moment it arrives. It also counts requests that have not
/// been answered yet, so that when the client closes stdin the server can finish what
/// it was asked before exiting (``drain(timeout:)``).
public actor LineTransport: Transport {
    public nonisolated let logger: Logger
    private let input: Int32
    private let output: Int32
    private let messages: AsyncThrowingStream<Data, any Error>
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation
    private let unanswered = RequestCounter()
    private var started = false

    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO, logger: Logger) {
        self.input = input
        self.output = output
        self.logger = logger
        (messages, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
    }

    public func connect() async throws {
        guard !started else { return }
        started = true
        // A client that goes away must not kill us with SIGPIPE; the write reports EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        let reader = LineReader(fd: input, continuation: continuation, unanswered: unanswered, logger: logger)
        let thread = Thread { reader.run() }
        thread.name = "mcp-stdin"
        thread.start()
    }

    public func disconnect() async {
        continuation.finish()
    }

    public func receive() -> AsyncThrowingStream<Data, any Error> {
        messages
    }

    public func send(_ data: Data) async throws {
        var framed = data
        framed.append(UInt8(ascii: "\n"))
        try framed.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(output, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw MCPError.transportError(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
                }
                offset += written
            }
        }
        unanswered.subtract(JSONRPCShape.count(in: data).responses)
    }

    /// Waits until every request received so far has been answered, or `timeout` passes.
    public func drain(timeout: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while unanswered.value > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

final class RequestCounter: Sendable {
    private let count = Mutex(0)

    var value: Int { count.withLock { $0 } }

    func add(_ amount: Int) {
        guard amount > 0 else { return }
        count.withLock { $0 += amount }
    }

    func subtract(_ amount: Int) {
        guard amount > 0 else { return }
        count.withLock { $0 = max(0, $0 - amount) }
    }
}

/// Reads lines from a file descriptor on its own thread and hands them to the server.
private struct LineReader: Sendable {
    let fd: Int32
    let continuation: AsyncThrowingStream<Data, any Error>.Continuation
    let unanswered: RequestCounter
    let logger: Logger

    func run() {
        var splitter = LineSplitter()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                logger.error("stdin read failed: \(String(cString: strerror(errno)))")
                break
            }
            if count == 0 { break }
            splitter.feed(buffer[..<count], tooLong: {
                logger.error("a line on stdin is longer than \(LineSplitter.maximumLine >> 20) MiB; dropped (no MCP message is that long)")
            }) { message in
                unanswered.add(JSONRPCShape.count(in: message).requests)
                continuation.yield(message)
            }
        }
        logger.debug("stdin closed")
        continuation.finish()
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
    mutating func feed(_ bytes: some Collection<UInt8>, tooLong: () -> Void = {}, _ emit: (Data) -> Void) {
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
                emit(Data(pending[start..<end]))
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

/// How many requests (they carry an id and a method) and responses (an id and a result
/// or error) a JSON-RPC message holds; batches count each member.
enum JSONRPCShape {
    private struct Envelope: Decodable {
        let id: IDValue?
        let method: String?
        let result: IgnoredValue?
        let error: IgnoredValue?
    }

    private struct IDValue: Decodable {
        init(from decoder: Decoder) throws {}
    }

    private struct IgnoredValue: Decodable {
        init(from decoder: Decoder) throws {}
    }

    static func count(in data: Data) -> (requests: Int, responses: Int) {
        let decoder = JSONDecoder()
        let envelopes: [Envelope]
        if data.first(where: { !$0.isWhitespace }) == UInt8(ascii: "[") {
            envelopes = (try? decoder.decode([Envelope].self, from: data)) ?? []
        } else {
            envelopes = (try? decoder.decode(Envelope.self, from: data)).map { [$0] } ?? []
        }
        var requests = 0, responses = 0
        for envelope in envelopes where envelope.id != nil {
            if envelope.method != nil {
                requests += 1
            } else if envelope.result != nil || envelope.error != nil {
                responses += 1
            }
        }
        return (requests, responses)
    }
}

extension UInt8 {
    fileprivate var isWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
