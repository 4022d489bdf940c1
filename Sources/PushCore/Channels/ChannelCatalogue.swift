import Synchronization

/// Every channel mcp-push supports, in the order results and `mcp-push channels` list them.
public enum ChannelCatalogue {
    public static let all: [any Channel.Type] = [
        Bark.self,
        DingTalk.self,
        Feishu.self,
        Telegram.self,
        WeComBot.self,
        WeComApp.self,
        Gotify.self,
        Ntfy.self,
        PushDeer.self,
        PushPlus.self,
        ServerChan.self,
        GoCQHTTP.self,
        Chronocat.self,
        WxPusher.self,
        Qmsg.self,
        IGot.self,
        PushMe.self,
        WePlus.self,
        Aibotk.self,
        SynologyChat.self,
        SMTP.self,
        Webhook.self,
    ]

    public static var ids: [ChannelID] { all.map { $0.descriptor.id } }

    public static func descriptor(for id: ChannelID) -> ChannelDescriptor? {
        all.first { $0.descriptor.id == id }?.descriptor
    }
}

/// How one channel stands under the current configuration.
public enum ChannelState: Sendable {
    /// None of its variables are set.
    case off
    case configured(any Channel)
    /// Some variables are set, but not all it needs (or one is unusable): not sent to.
    case misconfigured(ConfigurationError)
}

public struct ChannelEntry: Sendable {
    public let descriptor: ChannelDescriptor
    public let state: ChannelState

    public var channel: (any Channel)? {
        if case .configured(let channel) = state { return channel }
        return nil
    }
}

/// The catalogue evaluated against a configuration, once per process.
public struct ChannelSetup: Sendable {
    public let entries: [ChannelEntry]

    public init(configuration: Configuration, catalogue: [any Channel.Type] = ChannelCatalogue.all) {
        entries = catalogue.map { type in
            let state: ChannelState
            do {
                state = try type.init(configuration: configuration).map(ChannelState.configured) ?? .off
            } catch let error as ConfigurationError {
                state = .misconfigured(error)
            } catch {
                state = .misconfigured(.invalid(type.descriptor.id, "\(error)"))
            }
            return ChannelEntry(descriptor: type.descriptor, state: state)
        }
        self.configuration = configuration
    }

    /// Kept for the outbox targets, computed when first needed.
    private let configuration: Configuration

    public var configured: [any Channel] { entries.compactMap(\.channel) }

    /// What this process can send from the outbox: each configured channel's target.
    package var outboxTargets: [OutboxTarget] { configured.map(target(of:)) }

    /// A channel's outbox target (``ChannelDescriptor/fingerprint(configuration:)``), hashed once per
    /// process when first needed (not at start-up: the first SHA-256 initialises BoringSSL).
    package func target(of channel: any Channel) -> OutboxTarget {
        targets.cache.withLock { cache in
            if let known = cache[channel.id] { return known }
            let descriptor = type(of: channel).descriptor
            let target = OutboxTarget(
                channel: channel.id, fingerprint: descriptor.fingerprint(configuration: configuration), rateLimits: descriptor.rateLimits)
            cache[channel.id] = target
            return target
        }
    }

    /// The target of the configured channel with this id.
    package func target(ofChannel id: ChannelID) -> OutboxTarget? {
        entry(id)?.channel.map(target(of:))
    }

    private let targets = TargetCache()

    public func entry(_ id: ChannelID) -> ChannelEntry? { entries.first { $0.descriptor.id == id } }

    public var secrets: [String] { configured.flatMap(\.secrets) }
}

/// The outbox targets a process has hashed so far (shared by copies of its ``ChannelSetup``).
private final class TargetCache: Sendable {
    let cache = Mutex<[ChannelID: OutboxTarget]>([:])
}
