import AsyncHTTPClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

extension HTTPService {
    /// Sends one request, with a throwaway client and event loop, to a loopback listener of its
    /// own, and returns whether it was answered (within a second). Nothing leaves the machine, and
    /// a failure only means no head start.
    ///
    /// Why: a process's first request costs some 30 M instructions more than the next, nearly all
    /// of them the Swift runtime's first look-up of each (type, protocol) pair that SwiftNIO's
    /// pipeline and async-http-client's log metadata need, each walking the executable's ~10 000
    /// conformance records. Those answers are cached for the whole process, whichever client asked,
    /// so a server rehearses on its spare processor as it starts and its first notification finds
    /// them ready (docs/PERFORMANCE.md).
    @discardableResult
    public static func rehearseFirstRequest() -> Bool {
        guard let listener = LoopbackListener() else { return false }
        defer { close(listener.socket) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = makeClient(proxy: nil, eventLoopGroup: group)
        defer {
            try? client.syncShutdown()
            try? group.syncShutdownGracefully()
        }
        // Shaped like a channel's: a POST with a JSON body.
        guard var request = try? HTTPClient.Request(url: "http://127.0.0.1:\(listener.port)/", method: .POST) else { return false }
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.body = .byteBuffer(ByteBuffer(string: "{}"))
        let answer = client.execute(request: request, deadline: .now() + .seconds(1))
        listener.answerOne(bodyLength: 2)
        return (try? answer.wait())?.status == .ok
    }
}

/// A listening socket on 127.0.0.1 (a port the system picks) that answers one request with `{}`.
private struct LoopbackListener {
    let socket: Int32
    let port: Int

    init?() {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard listening else {
            close(fd)
            return nil
        }
        socket = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Accepts one connection, reads the request's head and `bodyLength` bytes of body, answers and
    /// closes; gives up after a second without progress.
    func answerOne(bodyLength: Int) {
        guard Self.waitReadable(socket) else { return }
        let connection = accept(socket, nil, nil)
        guard connection >= 0 else { return }
        defer { close(connection) }
        // Not inherited by a process started meanwhile (accept4, which would say so at once, is hidden too).
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let headEnd = Array("\r\n\r\n".utf8)
        while received.firstRange(of: headEnd).map({ received.count < $0.upperBound + bodyLength }) ?? true {
            guard Self.waitReadable(connection) else { return }
            let count = read(connection, &chunk, chunk.count)
            guard count > 0 else { return }
            received += chunk[..<count]
        }
        let response = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".utf8)
        _ = response.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
    }

    private static func waitReadable(_ fd: Int32) -> Bool {
        var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&ready, 1, 1000) == 1
    }
}
