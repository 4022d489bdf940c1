import Crypto
import Foundation

/// A channel's stable identifier, e.g. `dingtalk`: used in `channels` arguments,
/// results and `MCP_PUSH_<ID>_BASE_URL`.
public typealias ChannelID = String

/// A push service, built from configuration.
///
/// A channel is a small value: `init(configuration:)` reads its variables (returns nil
/// when none are set, throws ``ConfigurationError`` when some are missing or invalid),
/// and ``send(_:context:)`` performs one delivery attempt and reads the service's own
/// answer. Timeouts, concurrency and redaction belong to the ``Dispatcher``.
public protocol Channel: Sendable {
    static var descriptor: ChannelDescriptor { get }

    init?(configuration: Configuration) throws(ConfigurationError)

    /// The secret values this channel holds (tokens, keys, passwords): the dispatcher
    /// removes them from every string that leaves the core.
    var secrets: [String] { get }

    /// One line describing the configured target, with secrets masked (for `mcp-push channels`).
    var summary: String { get }

    func send(_ message: Message, context: DeliveryContext) async throws -> Delivery
}

extension Channel {
    public var id: ChannelID { Self.descriptor.id }
}

/// What `mcp-push channels` and the docs know about a channel before it is configured.
public struct ChannelDescriptor: Sendable {
    public let id: ChannelID
    public let displayName: String
    /// The service's origin, replaced by `MCP_PUSH_<ID>_BASE_URL`; nil when the user always supplies the host.
    public let defaultBaseURL: String?
    public let variables: [ConfigVariable]
    /// The service's documented rate limits; messages over them wait in the outbox.
    public let rateLimits: [RateLimit]
    /// The longest text the service accepts; longer messages are cut to fit.
    public let maximumLength: TextLimit?
    /// Whether `send` puts a message's link in a field of its own; otherwise it ends the text.
    public let carriesLinks: Bool
    /// Whether `send` says a message's level in the service's own terms; otherwise the title is marked.
    public let carriesLevels: Bool
    /// How many messages of `maximumLength` a long text may become (split on line breaks) before it is cut.
    public let maximumParts: Int
    /// Whether `send` shows a Markdown body in the service's own way; otherwise it gets the body as plain text.
    public let rendersMarkdown: Bool

    public init(
        id: ChannelID, displayName: String, defaultBaseURL: String?, variables: [ConfigVariable],
        rateLimits: [RateLimit] = [], maximumLength: TextLimit? = nil, carriesLinks: Bool = false, carriesLevels: Bool = false,
        maximumParts: Int = 1, rendersMarkdown: Bool = false
    ) {
        self.maximumParts = maximumParts
        self.rendersMarkdown = rendersMarkdown
        self.carriesLinks = carriesLinks
        self.carriesLevels = carriesLevels
        self.id = id
        self.displayName = displayName
        self.defaultBaseURL = defaultBaseURL
        self.variables = variables
        self.rateLimits = rateLimits
        self.maximumLength = maximumLength
    }

    /// The variable that overrides the service origin, e.g. `MCP_PUSH_DINGTALK_BASE_URL`.
    public var baseURLVariable: String { "MCP_PUSH_\(id.uppercased())_BASE_URL" }
}

public struct ConfigVariable: Sendable, Hashable {
    public let name: String
    public let isRequired: Bool
    public let isSecret: Bool
    public let summary: String

    public static func required(_ name: String, secret: Bool = false, _ summary: String) -> ConfigVariable {
        ConfigVariable(name: name, isRequired: true, isSecret: secret, summary: summary)
    }

    public static func optional(_ name: String, secret: Bool = false, _ summary: String) -> ConfigVariable {
        ConfigVariable(name: name, isRequired: false, isSecret: secret, summary: summary)
    }
}

/// The outcome of one delivery attempt, as the service reported it.
public struct Delivery: Sendable, Equatable {
    public var ok: Bool
    public var statusCode: Int?
    /// The service's reason when `ok` is false.
    public var error: String?
    /// Whether trying again later could succeed (rate limits, 5xx, network trouble).
    public var isTransient: Bool
    /// How long the service asked us to wait before trying again.
    public var retryAfter: Duration?
    /// How many messages the text went as (Telegram splits a long one).
    public var parts = 1
    /// The service's id of the message, for a service that can edit it later (Telegram, ntfy).
    public var messageID: String?
    /// The message replaced ``Message/replacing`` in place.
    public var edited = false

    public static func delivered(status: Int?, messageID: String? = nil) -> Delivery {
        Delivery(ok: true, statusCode: status, error: nil, isTransient: false, retryAfter: nil, messageID: messageID)
    }

    public static func rejected(
        status: Int?, _ reason: String, transient: Bool = false, retryAfter: Duration? = nil
    ) -> Delivery {
        Delivery(ok: false, statusCode: status, error: reason, isTransient: transient, retryAfter: retryAfter)
    }
}

extension ChannelDescriptor {
    /// Identifies a configured target (which robot, topic, server or inbox) without storing its
    /// secrets: a one-way SHA-256 over the channel's variables as set. Outbox items carry it, so a
    /// process configured differently leaves them for one that can send them. Changing any of a
    /// channel's variables makes it a new target: what the old one queued waits or expires.
    func fingerprint(configuration: Configuration) -> String {
        var identity = "mcp-push outbox target\u{0}\(id)"
        for name in variables.map(\.name) + [baseURLVariable] {
            identity += "\u{0}\(name)=\(configuration.raw(name) ?? "")"
        }
        return "\(id):" + Store.hex(SHA256.hash(data: Array(identity.utf8)).prefix(16))
    }
}
