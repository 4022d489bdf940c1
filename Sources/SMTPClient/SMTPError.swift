/// Why a message was not accepted. Descriptions never hold the password: commands
/// carrying credentials are named, never quoted.
public enum SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered `stage` with a failure reply.
    case rejected(stage: String, reply: SMTPReply)
    case connectionFailed(String)
    case timedOut(stage: String)
    case tlsFailed(String)
    /// Refused to continue for the user's safety (no TLS for the password, no usable AUTH).
    case refused(String)
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .rejected(let stage, let reply): return "\(stage) refused: \(reply)"
        case .connectionFailed(let reason): return "cannot connect: \(reason)"
        case .timedOut(let stage): return "timed out waiting for the server (\(stage))"
        case .tlsFailed(let reason): return "TLS failed: \(reason)"
        case .refused(let reason): return reason
        case .protocolViolation(let reason): return "unexpected server behaviour: \(reason)"
        }
    }

    /// Whether trying again later could succeed.
    public var isTransient: Bool {
        switch self {
        case .rejected(_, let reply): return reply.isTransient
        case .connectionFailed, .timedOut: return true
        case .tlsFailed, .refused, .protocolViolation: return false
        }
    }

    /// The reply code, when the server gave one.
    public var code: Int? {
        if case .rejected(_, let reply) = self { return reply.code }
        return nil
    }
}
