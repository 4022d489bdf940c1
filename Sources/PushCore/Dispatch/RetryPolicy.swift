/// How transient failures are retried within one call: exponential backoff with full
/// jitter, a service's own `Retry-After` honoured, never past the call's deadline.
public struct RetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt (`MCP_PUSH_RETRIES`).
    public var retries: Int = 2
    public var baseDelay: Duration = .milliseconds(500)
    public var maximumDelay: Duration = .seconds(8)

    public init(retries: Int = 2, baseDelay: Duration = .milliseconds(500), maximumDelay: Duration = .seconds(8)) {
        self.retries = retries
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
    }

    /// The wait before attempt `attempt + 1`: the service's request if it made one,
    /// else a uniformly random time up to `baseDelay · 2^(attempt-1)` (full jitter, so
    /// that many clients retrying at once do not arrive together).
    public func delay(afterAttempt attempt: Int, serviceAsked: Duration?) -> Duration {
        if let serviceAsked { return serviceAsked }
        let exponent = min(max(attempt - 1, 0), 16)
        let ceiling = min(maximumDelay, baseDelay * (1 << exponent))
        let milliseconds = max(ceiling.milliseconds, 1)
        return .milliseconds(Int.random(in: 0...milliseconds))
    }
}

/// One channel's delivery, retried while it fails transiently and time allows.
struct RetryingDelivery: Sendable {
    let policy: RetryPolicy
    /// The limit of one attempt (`MCP_PUSH_TIMEOUT`).
    let attemptTimeout: Duration
    let context: DeliveryContext

    /// How the attempts ended: `delivered` or `failed` (this layer never queues), and for a
    /// transient failure the earliest time a later try makes sense.
    struct Attempts: Sendable {
        var result: ChannelResult
        var retryAfter: Duration?
        /// Stopped because the caller was cancelled (the process is stopping), not by the service.
        var interrupted = false
    }

    /// Shortest attempt worth starting: less time than this before the deadline, and we stop.
    static let minimumAttemptTime: Duration = .milliseconds(100)

    func deliver(_ message: Message, via channel: any Channel, deadline: ContinuousClock.Instant) async -> Attempts {
        let clock = ContinuousClock()
        let start = clock.now
        var attempts = 0
        func finished(_ outcome: ChannelResult.Outcome, status: Int?) -> ChannelResult {
            ChannelResult(
                channel: channel.id, outcome: outcome, statusCode: status, attempts: attempts,
                durationMilliseconds: (clock.now - start).milliseconds)
        }
        while true {
            let remaining = deadline - clock.now
            let limit = min(attemptTimeout, remaining)
            attempts += 1
            let delivery = await attempt(message, via: channel, limit: limit)
            if delivery.ok {
                var result = finished(.delivered, status: delivery.statusCode)
                result.parts = delivery.parts
                result.messageID = delivery.messageID
                result.edited = delivery.edited
                return Attempts(result: result)
            }
            let reason = context.redactor.redact(delivery.error ?? "failed")
            guard delivery.isTransient else {
                return Attempts(result: finished(.failed(reason: reason + "; permanent error, not retried", transient: false), status: delivery.statusCode))
            }
            if Task.isCancelled {
                return Attempts(result: finished(.failed(reason: reason, transient: true), status: delivery.statusCode), interrupted: true)
            }
            let wait = policy.delay(afterAttempt: attempts, serviceAsked: delivery.retryAfter)
            let outOfRetries = attempts > policy.retries
            let outOfTime = deadline - clock.now - wait < Self.minimumAttemptTime
            if outOfRetries || outOfTime {
                let text = attempts > 1 ? reason + "; gave up after \(attempts) attempts" : reason
                return Attempts(
                    result: finished(.failed(reason: text, transient: true), status: delivery.statusCode),
                    retryAfter: delivery.retryAfter ?? wait)
            }
            context.logger.info(
                "retrying", metadata: ["channel": "\(channel.id)", "attempt": "\(attempts)", "wait_ms": "\(wait.milliseconds)", "error": "\(reason)"])
            do {
                try await Task.sleep(for: wait)
            } catch {
                return Attempts(result: finished(.failed(reason: reason, transient: true), status: delivery.statusCode), interrupted: true)
            }
        }
    }

    private func attempt(_ message: Message, via channel: any Channel, limit: Duration) async -> Delivery {
        let context = DeliveryContext(http: context.http, timeout: limit, redactor: context.redactor, logger: context.logger)
        do {
            return try await withTimeout(limit) { try await channel.send(message, context: context) }
        } catch let error as TimeoutError {
            return .rejected(status: nil, error.description, transient: true)
        } catch let error as TransportError {
            return .rejected(status: nil, error.description, transient: error.isTransient)
        } catch is CancellationError {
            return .rejected(status: nil, "interrupted: the process was stopping", transient: true)
        } catch {
            // Anything else is our side failing to build the request (a value JSON cannot hold): retrying changes nothing.
            return .rejected(status: nil, String(describing: error), transient: false)
        }
    }
}
