

/// Settings of the Streamable HTTP server.
public struct HTTPServingOptions: Sendable {
    public var host: String
    public var port: Int
    public var path: String
    public var stateless: Bool
    /// `MCP_PUSH_HTTP_TOKEN`: every MCP request must carry `Authorization: Bearer <token>`.
    public var token: String?
    /// `MCP_PUSH_ALLOWED_ORIGINS`: browser origins allowed besides loopback ones.
    public var allowedOrigins: Set<String>
    /// `MCP_PUSH_ALLOWED_HOSTS`: names besides loopback ones a client may put in `Host` (a reverse proxy's).
    public var allowedHosts: Set<String> = []
    public var maximumBodyBytes: Int
    public var sessionIdleTimeout: Duration
    /// `MCP_PUSH_HTTP_IDLE_TIMEOUT`: a connection that has not sent a whole request head by then, or
    /// idles between requests that long, is closed (a half-sent request must not hold a descriptor).
    /// A request being answered is never cut.
    public var connectionIdleTimeout: Duration = .seconds(10)
    /// `MCP_PUSH_HTTP_MAX_CONNECTIONS`: connections open at once; more wait to be accepted.
    public var maximumConnections = 512
    /// `MCP_PUSH_HTTP_MAX_SESSIONS`: 2025-revision sessions kept at once; opening one more closes the one
    /// used least recently (a client opening sessions in a loop must not grow the server without end).
    public var maximumSessions = 1000
    /// Paths under these prefixes carry a secret (a one-time token): logged without it.
    public var secretPathPrefixes: [String] = []

    public init(
        host: String, port: Int, path: String, stateless: Bool, token: String?, allowedOrigins: Set<String>,
        maximumBodyBytes: Int, sessionIdleTimeout: Duration
    ) {
        self.host = host
        self.port = port
        self.path = path
        self.stateless = stateless
        self.token = token
        self.allowedOrigins = allowedOrigins
        self.maximumBodyBytes = maximumBodyBytes
        self.sessionIdleTimeout = sessionIdleTimeout
    }

    /// `localhost`, `::1` (bracketed or not), or an IPv4 literal in 127.0.0.0/8: four decimal octets
    /// up to 255, nothing else. A name that merely starts with `127.` (`127.attacker.example`,
    /// `127.0.0.1.nip.io`) resolves wherever its owner likes: that is how DNS rebinding gets in.
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return false }
        for octet in octets {
            guard (1...3).contains(octet.count), octet.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(octet), value <= 255
            else { return false }
        }
        return octets[0] == "127"
    }

    /// The host of a `Host` header value or an origin's authority, without its port.
    public static func hostName(ofAuthority authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            return String(authority[...end])
        }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? "")
    }
}
