import JSONText

/// The MCP revisions this server speaks, and what differs between them on the wire.
/// Each rule names the revision text it comes from (modelcontextprotocol/modelcontextprotocol,
/// docs/specification/<revision>/).
public enum ProtocolRevision: String, Sendable, CaseIterable, Comparable {
    case v2024_11_05 = "2024-11-05"
    case v2025_03_26 = "2025-03-26"
    case v2025_06_18 = "2025-06-18"
    case v2025_11_25 = "2025-11-25"
    case v2026_07_28 = "2026-07-28"

    public static let latest = ProtocolRevision.v2026_07_28
    /// The newest revision that opens with `initialize` ("the latest of that line").
    public static let latestHandshake = ProtocolRevision.v2025_11_25

    public static func < (left: ProtocolRevision, right: ProtocolRevision) -> Bool { left.rawValue < right.rawValue }

    /// Every supported version, as `server/discover` and the -32022 error list them (newest first).
    static let supportedVersions: OrderedJSON = .array(allCases.reversed().map { .string($0.rawValue) })

    /// 2026-07-28 changelog 1-2: no handshake, no sessions; version and capabilities in each request's `_meta`.
    var isStateless: Bool { self >= .v2026_07_28 }

    /// 2025-03-26 changelog 1 added JSON-RPC batching; 2025-06-18 changelog 1 removed it.
    var allowsBatches: Bool { self == .v2025_03_26 }

    /// 2025-03-26 changelog: tool annotations.
    var hasToolAnnotations: Bool { self >= .v2025_03_26 }

    /// 2025-06-18 changelog: structured tool output (`outputSchema`, `structuredContent`) and `title` fields.
    var hasStructuredOutput: Bool { self >= .v2025_06_18 }

    /// 2026-07-28 changelog 5: `ping` and `logging/setLevel` are removed.
    var hasPingAndSetLevel: Bool { self < .v2026_07_28 }

    /// 2026-07-28 changelog 8: every result carries `resultType`; minor 5: list and read results
    /// carry `ttlMs` and `cacheScope`.
    var tagsResults: Bool { self >= .v2026_07_28 }

    /// 2026-07-28 changelog minor 6: resource not found moved from -32002 to -32602.
    var resourceNotFoundCode: Int { self >= .v2026_07_28 ? -32602 : -32002 }

    /// 2025-03-26 introduced Streamable HTTP; before it the `MCP-Protocol-Version` header did not
    /// exist (2025-06-18 added it), and 2026-07-28 streamable-http "Protocol Version Header" lets a
    /// server treat a request without it as 2025-03-26.
    static let assumedWithoutHeader = ProtocolRevision.v2025_03_26

    /// `initialize`: the client's version when we speak it, else our latest handshake revision
    /// (2025-11-25 basic/lifecycle "Version Negotiation"); a 2026 version is no handshake version.
    static func negotiated(_ requested: String?) -> ProtocolRevision {
        if let requested, let revision = ProtocolRevision(rawValue: requested), !revision.isStateless { return revision }
        return latestHandshake
    }
}
