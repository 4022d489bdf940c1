import Foundation

/// What one pass over the outbox did.
public struct OutboxPass: Sendable, Equatable {
    public var delivered = 0
    public var rescheduled = 0
    public var gaveUp = 0

    public var touched: Int { delivered + rescheduled + gaveUp }
}

extension Notifier {
    /// This process's name in outbox claims.
    static let processOwner = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))"

    /// Sends what is due in the outbox, once. Items are claimed in a transaction (two
    /// processes never take the same one); each channel's items go in queue order.
    @discardableResult
    public func workOutbox(now: Date = Date()) async -> OutboxPass {
        let store = await store
        let settings = dispatcher.settings
        let items: [OutboxItem]
        do {
            // The lease outlives one attempt, so a live claim is never taken over mid-send.
            items = try store.claimDue(owner: Self.processOwner, lease: settings.timeout + .seconds(30), limit: 50, now: now)
        } catch {
            logger.warning("outbox unavailable: \(redactor.redact(String(describing: error)))")
            return OutboxPass()
        }
        guard !items.isEmpty else { return OutboxPass() }
        let byChannel = Dictionary(grouping: items, by: \.channel)
        return await withTaskGroup(of: OutboxPass.self) { group in
            for (channelID, queue) in byChannel {
                group.addTask { await self.work(queue.sorted { $0.id < $1.id }, channel: channelID, store: store) }
            }
            var total = OutboxPass()
            for await pass in group {
                total.delivered += pass.delivered
                total.rescheduled += pass.rescheduled
                total.gaveUp += pass.gaveUp
            }
            return total
        }
    }

    private func work(_ queue: [OutboxItem], channel channelID: ChannelID, store: Store) async -> OutboxPass {
        var pass = OutboxPass()
        let settings = dispatcher.settings
        guard let channel = setup.entry(channelID)?.channel else {
            for item in queue {
                finish(item, store: store, ok: false, error: "not sent: \(channelID) is no longer configured in this process", attempts: item.attempts)
                pass.gaveUp += 1
            }
            return pass
        }
        let descriptor = type(of: channel).descriptor
        let context = DeliveryContext(http: http, timeout: settings.timeout, redactor: redactor, logger: logger)
        let once = RetryingDelivery(policy: RetryPolicy(retries: 0), attemptTimeout: settings.timeout, context: context)
        for (index, item) in queue.enumerated() {
            let age = Date().timeIntervalSince(item.createdAt)
            if age > Double(settings.outboxMaximumAge.milliseconds) / 1000 {
                let last = item.lastError ?? "no attempt succeeded"
                finish(item, store: store, ok: false, error: "gave up after \(Duration.seconds(age).roundedSecondsText) in the outbox (MCP_PUSH_OUTBOX_MAX_AGE): \(last)", attempts: item.attempts)
                pass.gaveUp += 1
                continue
            }
            if case .wait(let until, _)? = try? store.reserveSlot(channel: channelID, limits: descriptor.rateLimits) {
                // Still over the limit: this item and those behind it wait, in order.
                for waiting in queue[index...] {
                    try? store.reschedule(waiting.id, at: until, attempts: waiting.attempts, lastError: waiting.lastError)
                    pass.rescheduled += 1
                }
                return pass
            }
            let clock = ContinuousClock()
            let start = clock.now
            let outcome = await once.deliver(item.message, via: channel, deadline: clock.now + settings.timeout)
            let attempts = item.attempts + outcome.attempts
            let error = redactor.redact(outcome.delivery.error)
            if outcome.delivery.ok || !outcome.delivery.isTransient {
                finish(item, store: store, ok: outcome.delivery.ok, error: error, attempts: attempts, statusCode: outcome.delivery.statusCode, duration: clock.now - start)
                if outcome.delivery.ok { pass.delivered += 1 } else { pass.gaveUp += 1 }
                continue
            }
            // Still failing: back off, and keep the rest of this channel's queue behind it.
            let backoff = outcome.retryAfter.map { max($0, .seconds(1)) } ?? Self.outboxBackoff(attempts: attempts)
            let next = Date().addingTimeInterval(Double(backoff.milliseconds) / 1000)
            try? store.reschedule(item.id, at: next, attempts: attempts, lastError: error)
            for waiting in queue[(index + 1)...] {
                try? store.reschedule(waiting.id, at: max(next, waiting.nextAttemptAt), attempts: waiting.attempts, lastError: waiting.lastError)
            }
            pass.rescheduled += queue.count - index
            logger.info("outbox retry failed", metadata: ["channel": "\(channelID)", "attempts": "\(attempts)", "next_in_s": "\(backoff.milliseconds / 1000)"])
            return pass
        }
        return pass
    }

    private func finish(
        _ item: OutboxItem, store: Store, ok: Bool, error: String?, attempts: Int, statusCode: Int? = nil, duration: Duration = .zero
    ) {
        let result = ChannelResult(
            channel: item.channel, ok: ok, statusCode: statusCode, error: ok ? nil : error,
            durationMilliseconds: duration.milliseconds, attempts: attempts)
        do {
            try store.removeFromOutbox(item.id)
            try store.recordOutboxDelivery(item, result: result)
        } catch {
            logger.warning("outbox bookkeeping failed: \(redactor.redact(String(describing: error)))")
        }
        if ok {
            logger.info("delivered from the outbox", metadata: ["channel": "\(item.channel)", "attempts": "\(attempts)"])
        } else {
            logger.warning("outbox delivery given up", metadata: ["channel": "\(item.channel)", "error": "\(error ?? "")"])
        }
    }

    /// 5 s, 10 s, 20 s ... up to 10 minutes, with jitter.
    static func outboxBackoff(attempts: Int) -> Duration {
        let seconds = min(600.0, 5 * pow(2, Double(max(0, attempts - 1))))
        return .milliseconds(Int64(seconds * Double.random(in: 0.8...1.2) * 1000))
    }

    /// Works the outbox until cancelled: what the server runs in the background.
    public func runOutboxWorker(interval: Duration = .seconds(2)) async {
        while !Task.isCancelled {
            let pass = await workOutbox()
            try? await Task.sleep(for: pass.touched > 0 ? .milliseconds(200) : interval)
        }
    }
}
