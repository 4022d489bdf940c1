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
        let reader = LineReader(
            fd: input, continuation: continuation, unanswered: unanswered, logger: logger,
            answer: { [unanswered] data in
                // Counted like a request until written, so an exit right after still carries the answer.
                unanswered.add(1)
                Task {
                    try? await self.write(data)
                    unanswered.subtract(1)
                }
            })
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
        try write(data)
        unanswered.subtract(JSONRPCShape.count(in: data).responses)
    }

    /// Writes one message and its newline; from `send`, and for the errors the reader answers itself.
    func write(_ data: Data) throws {
        var framed = data
        framed.append(UInt8(ascii: "\n"))
        try framed.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(output, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw MCPError.transportError(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
                }
                offset += written
            }
        }
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
    /// Sends an error the reader answers itself (what is not a JSON-RPC message never reaches the server).
    let answer: @Sendable (Data) -> Void

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
                let reason = "a line on stdin is longer than \(LineSplitter.maximumLine >> 20) MiB; dropped (no MCP message is that long)"
                logger.error("\(reason)")
                answer(JSONRPCShape.error(-32700, "Parse error: \(reason)", id: nil))
            }) { message in
                switch JSONRPCShape.screen(message) {
                case .forward(let requests):
                    unanswered.add(requests)
                    continuation.yield(message)
                case .reject(let error):
                    logger.warning("refused a message on stdin: \(String(decoding: error, as: UTF8.self))")
                    answer(error)
                case .drop(let reason):
                    logger.warning("ignored a notification on stdin: \(reason)")
                }
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
        let params: Params?
        let result: IgnoredValue?
        let error: IgnoredValue?
    }

    /// MCP's params are an object; anything else is told apart without decoding it.
    private enum Params: Decodable {
        case object, other
        init(from decoder: Decoder) throws {
            self = (try? decoder.singleValueContainer().decode([String: IgnoredValue].self)) != nil ? .object : .other
        }
    }

    enum Screening: Equatable {
        /// A JSON-RPC message for the server, holding this many requests.
        case forward(requests: Int)
        /// Not one: this error answers it.
        case reject(Data)
        /// A notification that cannot be handled (nothing may answer a notification).
        case drop(String)
    }

    /// Whether a line is a JSON-RPC message the server should see. What is not is answered here as
    /// JSON-RPC says: not JSON -32700, not a request -32600, params not an object -32602, each with
    /// the message's own id when it has one and null otherwise.
    static func screen(_ data: Data) -> Screening {
        if data.first(where: { !$0.isWhitespace }) == UInt8(ascii: "[") {
            let members = try? JSONDecoder().decode([Envelope].self, from: data)
            if members?.isEmpty == true { return .reject(error(-32600, "Invalid Request: an empty batch", id: nil)) }
            return .forward(requests: count(in: data).requests)
        }
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: data) else {
            guard (try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)) != nil else {
                return .reject(error(-32700, "Parse error: the line is not JSON", id: nil))
            }
            return .reject(error(-32600, "Invalid Request: not a JSON-RPC request, notification or response", id: id(in: data)))
        }
        if envelope.method != nil {
            if envelope.params == .other {
                let reason = "Invalid params: params must be an object"
                guard envelope.id != nil else { return .drop(reason) }
                return .reject(error(-32602, reason, id: id(in: data)))
            }
            return .forward(requests: envelope.id == nil ? 0 : 1)
        }
        if envelope.id != nil && (envelope.result != nil || envelope.error != nil) { return .forward(requests: 0) }
        return .reject(error(-32600, "Invalid Request: no method, and not a response", id: id(in: data)))
    }

    /// A JSON-RPC error response; `id` is the message's id as JSON (a string or a number), or null.
    static func error(_ code: Int, _ message: String, id: Data?) -> Data {
        let text = String(decoding: (try? JSONSerialization.data(withJSONObject: message, options: .fragmentsAllowed)) ?? Data("\"\"".utf8), as: UTF8.self)
        let identifier = id.map { String(decoding: $0, as: UTF8.self) } ?? "null"
        return Data(#"{"jsonrpc":"2.0","id":\#(identifier),"error":{"code":\#(code),"message":\#(text)}}"#.utf8)
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

    /// The id of a message as JSON, when it is one JSON-RPC allows (a string or a number).
    private static func id(in data: Data) -> Data? {
        guard let id = (try? JSONDecoder().decode(Identified.self, from: data))?.id else { return nil }
        return try? JSONEncoder().encode(id)
    }

    private struct Identified: Decodable {
        let id: RequestID?
    }

    /// A string or a number, as JSON-RPC ids are (a boolean is neither).
    private enum RequestID: Codable {
        case string(String), integer(Int), number(Double)

        init(from decoder: Decoder) throws {
            let value = try decoder.singleValueContainer()
            if let text = try? value.decode(String.self) {
                self = .string(text)
            } else if let integer = try? value.decode(Int.self) {
                self = .integer(integer)
            } else {
                self = .number(try value.decode(Double.self))
            }
        }

        func encode(to encoder: Encoder) throws {
            var value = encoder.singleValueContainer()
            switch self {
            case .string(let text): try value.encode(text)
            case .integer(let integer): try value.encode(integer)
            case .number(let number): try value.encode(number)
            }
        }
    }
}

extension UInt8 {
    fileprivate var isWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
