/// Why a message was not accepted. Descriptions never hold the password: commands
/// carrying credentials are named, never quoted. They speak SMTP, not any one program's
/// settings: a caller adds its own advice.
public enum SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered `stage` with a failure reply.
    case rejected(stage: String, reply: SMTPReply)
    case connectionFailed(String)
    case timedOut(stage: String)
    case tlsFailed(String)
    /// The server offers no STARTTLS, and sending the password in clear was not allowed.
    case noEncryptionOffered
    /// The server offers none of the mechanisms this client speaks (PLAIN, LOGIN); what it offers.
    case noUsableAuthentication(offered: [String])
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .rejected(let stage, let reply): return "\(stage) refused: \(reply)"
        case .connectionFailed(let reason): return "cannot connect: \(reason)"
        case .timedOut(let stage): return "timed out waiting for the server (\(stage))"
        case .tlsFailed(let reason): return "TLS failed: \(reason)"
        case .noEncryptionOffered: return "the server offers no STARTTLS, so the password would travel unencrypted"
        case .noUsableAuthentication(let offered):
            return "the server offers no AUTH PLAIN or LOGIN (offered: \(offered.isEmpty ? "none" : offered.joined(separator: ", ")))"
        case .protocolViolation(let reason): return "unexpected server behaviour: \(reason)"
        }
    }

    /// Whether trying again later could succeed.
    public var isTransient: Bool {
        switch self {
        case .rejected(_, let reply): return reply.isTransient
        case .connectionFailed, .timedOut: return true
        case .tlsFailed, .noEncryptionOffered, .noUsableAuthentication, .protocolViolation: return false
        }
    }

    /// The reply code, when the server gave one.
    public var code: Int? {
        if case .rejected(_, let reply) = self { return reply.code }
        return nil
    }
}
