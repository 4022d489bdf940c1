import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where deliveries wait until some mcp-push process delivers them or they expire.
///
/// Every call writes its deliveries here before the first attempt (claimed by this process),
/// so a process killed mid-send leaves them to the next one; transient failures and
/// rate-limited messages wait here for their time. Any process works the items its own
/// channels can send (matched by ``Channel/fingerprint``) and leaves the others; only
/// expiry (`MCP_PUSH_OUTBOX_MAX_AGE`) ends an item unsent, and then says so in the history.
/// Delivery is at least once: a process killed while the service held its request
/// leaves an item that is sent again when its claim runs out.
package struct Outbox: Sendable {
    let store: any StateStore
    /// Whether waiting items will be worked: the shared file, or this server's memory while it runs
    /// the worker. Otherwise a transient failure is reported failed, not queued.
    let isWorked: Bool
    let settings: DispatchSettings
    let redactor: Redactor
    let logger: Logger

    /// This process's name in claims. `gethostname`, not `ProcessInfo.hostName`, which resolves the
    /// name (nscd, DNS) on every start that sends: milliseconds a hook cannot spare.
    static let owner: String = {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count - 1) == 0 ? String(cString: name) : "localhost"
        return "\(host):\(getpid()):\(UUID().uuidString.prefix(8))"
    }()

    /// How long a call's own items stay claimed: its deadline and one more attempt, with room
    /// for the bookkeeping, so a live call is never taken over; a dead one's are taken over soon after.
    var callLease: Duration { settings.deadline + settings.timeout + .seconds(10) }
    /// How long the worker's claim of one item lasts: one attempt and the bookkeeping.
    var attemptLease: Duration { settings.timeout + .seconds(10) }

    // MARK: A call's deliveries

    /// Writes a call's deliveries ahead. Nil when the store failed: the message still goes
    /// out, unlimited and unrecorded this once (the store is never why a notification fails).
    func begin(
        _ deliveries: [Store.PlannedDelivery], title: String, runID: String?, now: Date = Date()
    ) async -> (notificationID: Int64, items: [ChannelID: (item: Int64, admission: Admission)])? {
        do {
            return try await store.beginCall(
                deliveries, title: title, runID: runID, owner: Self.owner, lease: callLease,
                expiresAt: now.addingTimeInterval(settings.outboxMaximumAge.seconds), now: now)
        } catch {
            logger.warning("outbox and rate limits unavailable for this call: \(redactor.redact(String(describing: error)))")
            return nil
        }
    }

    /// Writes ahead and records a call handed to a background sender, at once. Nil when the store
    /// failed: the caller then sends the message itself.
    func handOver(
        _ deliveries: [Store.PlannedDelivery], title: String, runID: String?, digest: String?, now: Date = Date(),
        outcome: @escaping @Sendable (_ items: [ChannelID: (item: Int64, admission: Admission)]) -> HandedOver
    ) async -> (notificationID: Int64, result: DispatchResult)? {
        do {
            return try await store.handOver(
                deliveries, title: title, runID: runID, expiresAt: now.addingTimeInterval(settings.outboxMaximumAge.seconds),
                rememberingDigest: digest, now: now, outcome: outcome)
        } catch {
            logger.warning("outbox unavailable, sending here instead of handing over: \(redactor.redact(String(describing: error)))")
            return nil
        }
    }

    /// What becomes of a call's item, and the result the caller sees, once its attempts ended.
    func settle(_ attempts: RetryingDelivery.Attempts, item: Int64) -> (ChannelResult, OutboxSettlement) {
        var result = attempts.result
        // An interrupted process's memory dies with it: only a shared file can keep that delivery.
        let canWait = attempts.interrupted ? store.isPersistent : isWorked
        guard case .failed(let reason, true) = result.outcome, canWait else {
            return (result, .remove)
        }
        let queueReason: QueueReason = attempts.interrupted ? .interrupted : .retry
        // A service's Retry-After is honoured, but the background retry waits a few seconds at least.
        let wait = attempts.interrupted ? .zero : max(attempts.retryAfter ?? .zero, .seconds(5))
        let until = Date().addingTimeInterval(wait.seconds)
        result.outcome = .queued(item: item, until: until, reason: queueReason, lastError: reason)
        return (result, .reschedule(at: until, attempts: result.attempts, lastError: reason, reason: queueReason))
    }

    // MARK: Working the outbox

    /// Sends what is due and this process can send, once; expires what is too old, whoever
    /// queued it. Each target's items go in queue order.
    @discardableResult
    func work(_ setup: ChannelSetup, sender: RetryingDelivery, now: Date = Date()) async -> OutboxPass {
        // Most passes find an empty outbox: one lookup, nothing else.
        guard (try? await store.hasLiveOutboxItems()) ?? true else { return OutboxPass() }
        var expired = 0
        do {
            let items = try await store.expire(maximumAge: settings.outboxMaximumAge, now: now)
            items.forEach { DeliveryMetrics.expired($0.channel) }
            expired = items.count
        } catch {
            logger.warning("outbox unavailable: \(redactor.redact(String(describing: error)))")
        }
        if expired > 0 { logger.warning("outbox: \(expired) delivery(ies) expired unsent (MCP_PUSH_OUTBOX_MAX_AGE)") }
        let items: [OutboxItem]
        do {
            items = try await store.claimDue(owner: Self.owner, targets: setup.outboxTargets, lease: attemptLease, limit: 50, now: now)
        } catch {
            logger.warning("outbox unavailable: \(redactor.redact(String(describing: error)))")
            return OutboxPass(expired: expired)
        }
        let channels = Dictionary(setup.configured.map { (setup.target(of: $0).fingerprint, $0) }, uniquingKeysWith: { first, _ in first })
        let byTarget = Dictionary(grouping: items) { $0.target ?? $0.channel }
        var total = await withTaskGroup(of: OutboxPass.self) { group in
            for (_, queue) in byTarget {
                let first = queue[0]
                guard let channel = first.target.flatMap({ channels[$0] }) ?? setup.entry(first.channel)?.channel else { continue }
                group.addTask { await self.work(queue.sorted { $0.id < $1.id }, via: channel, sender: sender) }
            }
            var total = OutboxPass()
            for await pass in group { total.add(pass) }
            return total
        }
        total.expired += expired
        return total
    }

    private func work(_ queue: [OutboxItem], via channel: any Channel, sender: RetryingDelivery) async -> OutboxPass {
        var pass = OutboxPass()
        let limits = type(of: channel).descriptor.rateLimits
        for (index, item) in queue.enumerated() {
            if case .wait(let until, _)? = try? await store.reserveSlot(channel: channel.id, limits: limits, now: Date()) {
                // Still over the limit: this item and those behind it wait, in order.
                let rest = queue[index...].map { ($0.id, OutboxSettlement.reschedule(at: until, attempts: $0.attempts, lastError: $0.lastError, reason: .rateLimit)) }
                await bookkeep { try await store.settle(rest) }
                pass.rescheduled += rest.count
                return pass
            }
            let clock = ContinuousClock()
            let attempts = await sender.deliver(item.message, via: channel, deadline: clock.now + settings.timeout)
            var result = attempts.result
            result.attempts += item.attempts
            if case .failed(let reason, true) = result.outcome {
                // Still failing: back off, and keep the rest of this target's queue behind it.
                let backoff = attempts.interrupted ? .zero : attempts.retryAfter.map { max($0, .seconds(1)) } ?? Self.backoff(attempts: result.attempts)
                let next = Date().addingTimeInterval(backoff.seconds)
                let reasonKind: QueueReason = attempts.interrupted ? .interrupted : .retry
                var settlements = [(item.id, OutboxSettlement.reschedule(at: next, attempts: result.attempts, lastError: reason, reason: reasonKind))]
                settlements += queue[(index + 1)...].map { ($0.id, .reschedule(at: max(next, $0.nextAttemptAt), attempts: $0.attempts, lastError: $0.lastError, reason: $0.reason)) }
                await bookkeep { try await store.settle(settlements) }
                DeliveryMetrics.retried(channel.id)
                pass.rescheduled += settlements.count
                logger.info("outbox retry failed", metadata: ["channel": "\(channel.id)", "attempts": "\(result.attempts)", "next_in_s": "\(backoff.milliseconds / 1000)"])
                return pass
            }
            await bookkeep { try await store.recordOutboxDelivery(item, result: result, settlement: .remove, at: Date()) }
            DeliveryMetrics.record(attempts.result)  // this attempt only: earlier ones were counted as they happened
            if result.ok {
                pass.delivered += 1
                logger.info("delivered from the outbox", metadata: ["channel": "\(item.channel)", "attempts": "\(result.attempts)"])
            } else {
                pass.failed += 1
                logger.warning("outbox delivery failed for good", metadata: ["channel": "\(item.channel)", "error": "\(result.error ?? "")"])
            }
        }
        return pass
    }

    private func bookkeep(_ write: () async throws -> Void) async {
        do { try await write() } catch { logger.warning("outbox bookkeeping failed: \(redactor.redact(String(describing: error)))") }
    }

    /// 5 s, 10 s, 20 s ... up to 10 minutes, with jitter.
    static func backoff(attempts: Int) -> Duration {
        let seconds = min(600.0, 5 * pow(2, Double(max(0, attempts - 1))))
        return .milliseconds(Int64(seconds * Double.random(in: 0.8...1.2) * 1000))
    }

    /// When the next item this process can send is due; nil when none waits for it.
    func nextDue(_ setup: ChannelSetup) async -> Date? {
        (try? await store.nextDue(targets: setup.outboxTargets)) ?? nil
    }
}

/// What one pass over the outbox did.
public struct OutboxPass: Sendable, Equatable {
    public var delivered = 0
    public var rescheduled = 0
    /// Refused for good by the service.
    public var failed = 0
    /// Too old: reported expired, unsent.
    public var expired = 0

    public var touched: Int { delivered + rescheduled + failed + expired }

    mutating func add(_ other: OutboxPass) {
        delivered += other.delivered
        rescheduled += other.rescheduled
        failed += other.failed
        expired += other.expired
    }
}
