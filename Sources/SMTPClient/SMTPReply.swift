import NIOCore

/// One server reply: a three-digit code and its text lines (several for `250-...` continuations).
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public let code: Int
    public let lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    public var isPositive: Bool { (200..<400).contains(code) }
    /// 4xx: try again later (greylisting, rate limits, temporary failures).
    public var isTransient: Bool { (400..<500).contains(code) }
    public var text: String { lines.joined(separator: " ") }
    public var description: String { "\(code) \(text)".trimmingCharacters(in: .whitespaces) }
}

/// Splits the byte stream into replies, joining multi-line ones (RFC 5321 §4.2: `250-first`, `250 last`).
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    /// Longest reply line accepted; a server sending more is broken or hostile.
    static let maximumLineLength = 4096
    private var pending: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maximumLineLength { throw SMTPError.protocolViolation("reply line too long") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        var line = buffer.readString(length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }
        guard let reply = try Self.accept(line, pending: &pending) else { return .continue }
        context.fireChannelRead(Self.wrapInboundOut(reply))
        return .continue
    }

    /// Adds one line; returns the reply when the line was its last.
    static func accept(_ line: String, pending: inout [String]) throws -> SMTPReply? {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(code) else {
            throw SMTPError.protocolViolation("unexpected reply line: \(line.prefix(80))")
        }
        let separator = bytes.count > 3 ? bytes[3] : UInt8(ascii: " ")
        let text = bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : ""
        pending.append(text)
        guard separator != UInt8(ascii: "-") else { return nil }
        defer { pending.removeAll() }
        return SMTPReply(code: code, lines: pending)
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue, buffer.readableBytes > 0 {}
        return .needMoreData
    }
}
