import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The records every StateStore backend reads and writes: what the history, the outbox, runs, rate limits
// and questions hold, independent of the database that holds them.

/// A question waiting for the person's answer (a permission prompt, `notify_ask`), shared by
/// every mcp-push process: the one that waits, the Telegram poller, the web page's server.
package struct ApprovalRecord: Sendable, Equatable {
    package enum State: String, Sendable {
        case pending, answered, expired
        /// The asker stopped waiting (the agent answered in the terminal, the process was stopped).
        case withdrawn
    }

    package var id: String
    package var kind: String
    package var title: String
    package var detail: String
    package var options: [String]
    package var createdAt: Date
    package var expiresAt: Date
    package var state: State
    package var answer: Int?
    package var answeredBy: String?
    package var answeredVia: String?
    package var answeredAt: Date?
    package var agent: String?
    /// The process waiting for the answer (checked only on the machine that asked).
    package var waiterPID: Int32?

    package init(
        id: String, kind: String, title: String, detail: String, options: [String], createdAt: Date, expiresAt: Date,
        agent: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.title = title
        self.detail = detail
        self.options = options
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.state = .pending
        self.agent = agent
    }

    /// The chosen option's label, once answered.
    package var answerLabel: String? { answer.flatMap { options.indices.contains($0) ? options[$0] : nil } }

    /// What an answer with option `choice` does, the same on every backend: nothing once the request is
    /// closed; past its time it only expires it; an asker that is gone (killed before it could withdraw)
    /// withdraws it, since the answer would reach nobody; else it decides it. `changed` is the record to
    /// write, nil when nothing changes.
    package func answering(
        _ choice: Int, by who: String, via channel: String, at now: Date, askerGone: Bool
    ) -> (use: TokenUse, changed: ApprovalRecord?) {
        guard state == .pending else { return (.alreadyClosed(self), nil) }
        var record = self
        if now >= expiresAt {
            record.state = .expired
            return (.alreadyClosed(record), record)
        }
        if askerGone {
            record.state = .withdrawn
            record.answeredAt = now
            return (.alreadyClosed(record), record)
        }
        record.state = .answered
        record.answer = choice
        record.answeredBy = who
        record.answeredVia = channel
        record.answeredAt = now
        return (.decided(record), record)
    }

    /// Whether the process that asked, on this machine, has exited.
    package var askerExitedHere: Bool {
        guard let pid = waiterPID else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}

/// What presenting a token did.
package enum TokenUse: Sendable, Equatable {
    /// This answer decided the request.
    case decided(ApprovalRecord)
    /// The request was already answered, expired or withdrawn: nothing changed.
    case alreadyClosed(ApprovalRecord)
    /// No such token (forged, altered, or pruned).
    case unknown
}

/// What a token may do: answer with one option, or show the request's page.
package enum TokenPurpose: Sendable, Equatable {
    case answer(Int)
    case page
}

/// One channel's delivery as the history keeps it (errors already redacted).
public struct DeliveryRecord: Sendable, Equatable, Codable {
    public var channel: String
    public var title: String?
    public var ok: Bool
    public var queued: Bool
    public var statusCode: Int?
    public var error: String?
    public var attempts: Int
    public var durationMilliseconds: Int
    public var at: Date
    public var source: DeliverySource

    enum CodingKeys: String, CodingKey {
        case channel, title, ok, queued, statusCode = "status_code", error, attempts
        case durationMilliseconds = "duration_ms", at, source
    }
}

/// Where a delivery in the history was made.
public enum DeliverySource: String, Sendable, Codable {
    /// While the caller waited.
    case call
    /// Later, from the outbox, by whichever process could send it.
    case outbox
}

/// What the store knows of a channel's recent deliveries.
public struct ChannelActivity: Sendable, Equatable {
    public var lastSuccess: Date?
    public var lastFailure: Date?
    public var lastError: String?
}

/// A documented rate limit: at most `count` messages per `window`.
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    public var count: Int
    public var window: Duration

    public init(_ count: Int, per window: Duration) {
        self.count = count
        self.window = window
    }

    public var description: String {
        switch window {
        case .seconds(1): return "\(count) a second"
        case .seconds(60): return "\(count) a minute"
        default: return "\(count) per \(window.secondsText)"
        }
    }
}

package enum RateDecision: Sendable, Equatable {
    /// A slot was taken: send now.
    case send
    /// Over the limit until then.
    case wait(until: Date, limit: RateLimit)
}

/// Whether a channel may send now, decided for every channel of a call at once.
package enum Admission: Sendable, Equatable {
    /// A slot was taken (or the channel has no limit): send now.
    case send
    /// Earlier messages for this channel wait in the outbox: queue behind them, in order.
    case queueBehind
    /// Over `limit` until `until`: queue.
    case wait(until: Date, limit: RateLimit)

    init(_ decision: RateDecision) {
        switch decision {
        case .send: self = .send
        case .wait(let until, let limit): self = .wait(until: until, limit: limit)
        }
    }
}

/// A delivery the outbox holds: under way in some process (claimed), waiting to be
/// retried, or expired. The message itself is stored; the channel's secrets never are,
/// only its ``Channel/fingerprint``.
package struct OutboxItem: Sendable, Equatable {
    public var id: Int64
    public var channel: ChannelID
    /// The fingerprint of the configured target it is for (nil for items from before fingerprints).
    public var target: String?
    public var message: Message
    public var notificationID: Int64?
    public var reason: QueueReason
    public var createdAt: Date
    public var nextAttemptAt: Date
    /// After this, nobody sends it: it is reported expired.
    public var expiresAt: Date?
    /// Set once it expired (it stays listed until pruned with the history).
    public var expiredAt: Date?
    public var claimedUntil: Date?
    public var attempts: Int
    public var lastError: String?
}

/// A channel of this process that can send outbox items: the items for its fingerprint.
package struct OutboxTarget: Sendable, Hashable {
    public var channel: ChannelID
    public var fingerprint: String
    public var rateLimits: [RateLimit]

    public init(channel: ChannelID, fingerprint: String, rateLimits: [RateLimit] = []) {
        self.channel = channel
        self.fingerprint = fingerprint
        self.rateLimits = rateLimits
    }
}

/// What becomes of an outbox item once an attempt at it ended.
package enum OutboxSettlement: Sendable, Equatable {
    /// Delivered, or failed for good: the history has it now.
    case remove
    /// Wait for another try at `at`.
    case reschedule(at: Date, attempts: Int, lastError: String?, reason: QueueReason)
}

/// A run as the store remembers it.
public struct RunRecord: Sendable, Equatable, Codable {
    public var runID: String
    public var firstEvent: String
    public var lastEvent: String
    public var startedAt: Date?
    public var finishedAt: Date?
    /// `end` or `error` once finished.
    public var outcome: String?
    public var lastProgress: Double?
    public var lastMessage: String?
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", firstEvent = "first_event", lastEvent = "last_event", startedAt = "started_at"
        case finishedAt = "finished_at", outcome, lastProgress = "last_progress", lastMessage = "last_message"
        case updatedAt = "updated_at"
    }
}

public struct EventRecord: Sendable, Equatable, Codable {
    public var kind: RunEvent.Kind
    public var message: String
    /// The event's `data` as JSON text.
    public var data: String?
    public var at: Date
}

extension Duration {
    package var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension RunEvent.Kind {
    var isFinal: Bool { self == .end || self == .error }
}
