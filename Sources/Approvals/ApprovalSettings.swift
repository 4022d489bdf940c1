import Foundation
import PushCore

/// How questions reach the person and for how long they wait (docs/APPROVALS.md).
public struct ApprovalSettings: Sendable, Equatable {
    public static let switchVariable = "MCP_PUSH_APPROVALS"
    public static let timeoutVariable = "MCP_PUSH_APPROVAL_TIMEOUT"
    public static let publicURLVariable = "MCP_PUSH_PUBLIC_URL"
    public static let pollVariable = "MCP_PUSH_TELEGRAM_POLL_SECONDS"

    /// `MCP_PUSH_APPROVALS`: nil = on when an answering channel is configured.
    public var enabled: Bool?
    /// How long a permission prompt waits for the phone (below the agent's hook timeout).
    public var timeout: Duration
    /// Where `mcp-push serve --transport http` is reached from the phone, for the answer page.
    public var publicURL: String?
    /// Telegram `getUpdates` long-polling time.
    public var telegramPoll: Duration

    public init(configuration: Configuration) throws(ConfigurationError) {
        enabled = try configuration.bool(Self.switchVariable)
        timeout = try configuration.seconds(Self.timeoutVariable, in: 5...3600) ?? .seconds(120)
        if let url = configuration[Self.publicURLVariable] {
            publicURL = try Configuration.validatedURL(url, variable: Self.publicURLVariable).trimmingSuffix("/")
        }
        telegramPoll = try configuration.seconds(Self.pollVariable, in: 1...50) ?? .seconds(25)
    }
}
