import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// How the connection is protected.
public enum SMTPSecurity: Sendable, Equatable {
    /// TLS from the first byte (SMTPS, port 465).
    case implicitTLS
    /// Plain connection upgraded with STARTTLS before AUTH; without STARTTLS the client
    /// stops rather than send the password in the clear, unless `allowPlaintext`.
    case startTLS(allowPlaintext: Bool)
}

/// Which certificates the client accepts.
public enum SMTPTrust: Sendable, Equatable {
    case systemRoots
    /// A PEM file of CA certificates (e.g. a company CA, or a test server's own certificate).
    case certificateFile(String)
    /// No verification at all: for self-signed test servers only.
    case insecure
}

public struct SMTPServer: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var security: SMTPSecurity
    public var trust: SMTPTrust
    public var username: String
    public var password: String

    public init(host: String, port: Int, security: SMTPSecurity, trust: SMTPTrust = .systemRoots, username: String, password: String) {
        self.host = host
        self.port = port
        self.security = security
        self.trust = trust
        self.username = username
        self.password = password
    }
}

/// A small SMTP submission client (RFC 5321, 3207, 4954) on SwiftNIO: one message per connection.
public enum SMTPClient {
    /// Sends `message` and returns the server's final reply; every step must finish before `deadline`.
    @discardableResult
    public static func send(_ message: MailMessage, via server: SMTPServer, deadline: ContinuousClock.Instant) async throws(SMTPError) -> SMTPReply {
        let connection = try await SMTPConnection.open(server, deadline: deadline)
        do {
            let reply = try await converse(message, server: server, connection: connection)
            await connection.close()
            return reply
        } catch {
            await connection.close()
            throw error
        }
    }

    private static func converse(_ message: MailMessage, server: SMTPServer, connection: SMTPConnection) async throws(SMTPError) -> SMTPReply {
        try await connection.expect("greeting", 220)
        var capabilities = try await hello(connection)
        if !connection.isEncrypted {
            if capabilities.contains(where: { $0.uppercased() == "STARTTLS" }) {
                try await connection.command("STARTTLS", stage: "STARTTLS", expecting: 220)
                try await connection.startTLS()
                capabilities = try await hello(connection)
            } else if case .startTLS(allowPlaintext: false) = server.security {
                throw .noEncryptionOffered
            }
        }
        try await authenticate(server, capabilities: capabilities, connection: connection)
        try await connection.command("MAIL FROM:<\(message.from)>", stage: "MAIL FROM", expecting: 250)
        for recipient in message.to {
            try await connection.command("RCPT TO:<\(recipient)>", stage: "RCPT TO <\(recipient)>", expecting: 250, 251)
        }
        try await connection.command("DATA", stage: "DATA", expecting: 354)
        let data = MailMessage.dotStuffed(message.rendered()) + "\r\n.\r\n"
        let accepted = try await connection.command(data, stage: "message", expecting: 250, logged: "<message>")
        _ = try? await connection.command("QUIT", stage: "QUIT", expecting: 221)
        return accepted
    }

    /// EHLO (HELO if the server does not know it); returns the EHLO keywords.
    private static func hello(_ connection: SMTPConnection) async throws(SMTPError) -> [String] {
        let name = "mcp-push.localdomain"
        let reply = try await connection.command("EHLO \(name)", stage: "EHLO")
        if reply.code == 250 { return reply.lines.dropFirst().map { $0.trimmingCharacters(in: .whitespaces) } }
        try await connection.command("HELO \(name)", stage: "HELO", expecting: 250)
        return []
    }

    private static func authenticate(_ server: SMTPServer, capabilities: [String], connection: SMTPConnection) async throws(SMTPError) {
        let mechanisms = Set(
            capabilities.filter { $0.uppercased().hasPrefix("AUTH ") || $0.uppercased().hasPrefix("AUTH=") }
                .flatMap { $0.dropFirst(5).split(separator: " ").map { $0.uppercased() } })
        if mechanisms.contains("PLAIN") {
            let token = Data(("\0" + server.username + "\0" + server.password).utf8).base64EncodedString()
            try await connection.command("AUTH PLAIN \(token)", stage: "AUTH PLAIN", expecting: 235, logged: "AUTH PLAIN ***")
        } else if mechanisms.contains("LOGIN") {
            try await connection.command("AUTH LOGIN", stage: "AUTH LOGIN", expecting: 334)
            try await connection.command(Data(server.username.utf8).base64EncodedString(), stage: "AUTH LOGIN (user name)", expecting: 334)
            try await connection.command(Data(server.password.utf8).base64EncodedString(), stage: "AUTH LOGIN (password)", expecting: 235, logged: "***")
        } else {
            throw .noUsableAuthentication(offered: mechanisms.sorted())
        }
    }
}

/// One TCP (and TLS) connection, with replies read in order under a deadline.
final class SMTPConnection: Sendable {
    private let channel: Channel
    private let replies: ReplyQueue
    private let server: SMTPServer
    private let deadline: ContinuousClock.Instant
    private let encrypted: Mutex<Bool>

    private init(channel: Channel, replies: ReplyQueue, server: SMTPServer, deadline: ContinuousClock.Instant) {
        self.channel = channel
        self.replies = replies
        self.server = server
        self.deadline = deadline
        self.encrypted = Mutex(server.security == .implicitTLS)
    }

    var isEncrypted: Bool { encrypted.withLock { $0 } }

    static func open(_ server: SMTPServer, deadline: ContinuousClock.Instant) async throws(SMTPError) -> SMTPConnection {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { throw .timedOut(stage: "connect") }
        let tls = server.security == .implicitTLS ? try makeTLS(server) : nil
        let replies = ReplyQueue()
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(TimeAmount(remaining))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: tls.hostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                    try channel.pipeline.syncOperations.addHandler(replies)
                }
            }
        do {
            let channel = try await bootstrap.connect(host: server.host, port: server.port).get()
            return SMTPConnection(channel: channel, replies: replies, server: server, deadline: deadline)
        } catch ChannelError.connectTimeout {
            throw .timedOut(stage: "connect")
        } catch {
            throw .connectionFailed("\(server.host):\(server.port): \(Self.describe(error))")
        }
    }

    struct TLSSetup: Sendable {
        let context: NIOSSLContext
        /// For SNI and hostname verification; nil for an IP address, which is checked against the certificate's IP entries.
        let hostname: String?
    }

    static func makeTLS(_ server: SMTPServer) throws(SMTPError) -> TLSSetup {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch server.trust {
        case .systemRoots: break
        case .certificateFile(let path): configuration.trustRoots = .file(path)
        case .insecure: configuration.certificateVerification = .none
        }
        do {
            let context = try NIOSSLContext(configuration: configuration)
            let isAddress = (try? SocketAddress(ipAddress: server.host, port: 0)) != nil
            return TLSSetup(context: context, hostname: isAddress ? nil : server.host)
        } catch {
            throw .tlsFailed("cannot set up TLS: \(error)")
        }
    }

    /// Upgrades the connection and waits for the handshake, so a refused certificate is reported
    /// as itself (as with implicit TLS) rather than as the next command failing on a closed channel.
    func startTLS() async throws(SMTPError) {
        let tls = try Self.makeTLS(server)
        let channel = self.channel
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { throw .timedOut(stage: "TLS handshake") }
        do {
            try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
                let handshake = HandshakeWaiter(promise: channel.eventLoop.makePromise(), within: TimeAmount(remaining))
                do {
                    let ssl = try NIOSSLClientHandler(context: tls.context, serverHostname: tls.hostname)
                    try channel.pipeline.syncOperations.addHandler(ssl, position: .first)
                    try channel.pipeline.syncOperations.addHandler(handshake, position: .after(ssl))
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                return handshake.promise.futureResult
            }.get()
        } catch let error as SMTPError {
            channel.close(promise: nil)
            throw error
        } catch {
            channel.close(promise: nil)
            throw .tlsFailed(Self.describe(error))
        }
        encrypted.withLock { $0 = true }
    }

    /// Waits for the next reply until the deadline.
    func reply(stage: String) async throws(SMTPError) -> SMTPReply {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { throw .timedOut(stage: stage) }
        let replies = self.replies
        do {
            return try await channel.eventLoop.flatSubmit {
                replies.next(on: self.channel.eventLoop, within: TimeAmount(remaining), stage: stage)
            }.get()
        } catch let error as SMTPError {
            if case .timedOut = error { channel.close(promise: nil) }
            throw error
        } catch {
            if error is NIOSSLError || error is BoringSSLError {
                throw .tlsFailed(Self.describe(error))
            }
            throw .connectionFailed("during \(stage): \(Self.describe(error))")
        }
    }

    /// Sends one command (or the message) and checks its reply. `logged` replaces the text in
    /// errors when it carries credentials or content.
    @discardableResult
    func command(_ text: String, stage: String, expecting codes: Int..., logged: String? = nil) async throws(SMTPError) -> SMTPReply {
        let payload = text.hasSuffix("\r\n.\r\n") ? text : text + "\r\n"
        do {
            try await channel.writeAndFlush(ByteBuffer(string: payload)).get()
        } catch {
            throw .connectionFailed("sending \(logged ?? stage): \(Self.describe(error))")
        }
        let reply = try await reply(stage: stage)
        if !codes.isEmpty && !codes.contains(reply.code) {
            throw .rejected(stage: stage, reply: reply)
        }
        return reply
    }

    func expect(_ stage: String, _ code: Int) async throws(SMTPError) {
        let reply = try await reply(stage: stage)
        guard reply.code == code else { throw .rejected(stage: stage, reply: reply) }
    }

    func close() async {
        try? await channel.close().get()
    }

    static func describe(_ error: Error) -> String {
        if let error = error as? IOError { return error.description }
        if let error = error as? NIOSSLError {
            switch error {
            case .handshakeFailed(let inner): return "handshake failed: \(inner)"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Completes its promise when the TLS handshake ends: success, the handshake's error, the
/// connection closing, or the time running out. Lives on the channel's event loop.
final class HandshakeWaiter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let promise: EventLoopPromise<Void>
    private let time: TimeAmount
    private var timeout: Scheduled<Void>?
    private var done = false

    init(promise: EventLoopPromise<Void>, within time: TimeAmount) {
        self.promise = promise
        self.time = time
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timeout = context.eventLoop.scheduleTask(in: time) { [self] in finish(.failure(SMTPError.timedOut(stage: "TLS handshake"))) }
    }

    private func finish(_ result: Result<Void, Error>) {
        guard !done else { return }
        done = true
        timeout?.cancel()
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { finish(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(SMTPError.connectionFailed("the server closed the connection during the TLS handshake")))
        context.fireChannelInactive()
    }
}

/// Replies in arrival order for one waiting reader. Lives on the channel's event loop: every
/// method runs there (handler callbacks, and `next` through `flatSubmit`).
final class ReplyQueue: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = SMTPReply

    private var buffered: [SMTPReply] = []
    private var waiter: (promise: EventLoopPromise<SMTPReply>, timeout: Scheduled<Void>)?
    private var ended: Error?

    func next(on eventLoop: EventLoop, within time: TimeAmount, stage: String) -> EventLoopFuture<SMTPReply> {
        if !buffered.isEmpty { return eventLoop.makeSucceededFuture(buffered.removeFirst()) }
        if let ended { return eventLoop.makeFailedFuture(ended) }
        let promise = eventLoop.makePromise(of: SMTPReply.self)
        let timeout = eventLoop.scheduleTask(in: time) { [self] in
            guard let waiter = self.waiter else { return }
            self.waiter = nil
            waiter.promise.fail(SMTPError.timedOut(stage: stage))
        }
        waiter = (promise, timeout)
        return promise.futureResult
    }

    private func resolve(_ result: Result<SMTPReply, Error>) -> Bool {
        guard let waiter else { return false }
        self.waiter = nil
        waiter.timeout.cancel()
        waiter.promise.completeWith(result)
        return true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        if !resolve(.success(reply)) { buffered.append(reply) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        ended = ended ?? error
        _ = resolve(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let closed = SMTPError.connectionFailed("the server closed the connection")
        ended = ended ?? closed
        _ = resolve(.failure(ended!))
        context.fireChannelInactive()
    }
}
