import Foundation

/// What the store and the configuration say, shaped for people and agents: the MCP
/// resources and `mcp-push history` / `outbox` read these, so both show the same thing.
public enum Reports {
    /// Each catalogue channel: its state, limits and recent activity.
    public struct ChannelStatus: Sendable, Codable, Equatable {
        public var id: String
        public var name: String
        public enum State: String, Sendable, Codable {
            case configured, misconfigured, off
        }

        public var state: State
        /// False when `MCP_PUSH_CHANNELS` leaves it out.
        public var allowed: Bool
        public var target: String?
        public var problem: String?
        public var rateLimits: [String]
        public var lastSuccess: Date?
        public var lastFailure: Date?
        public var lastError: String?
        public var queued: Int

        enum CodingKeys: String, CodingKey {
            case id, name, state, allowed, target, problem, rateLimits = "rate_limits", lastSuccess = "last_success"
            case lastFailure = "last_failure", lastError = "last_error", queued
        }
    }

    /// One run with what happened in it.
    public struct RunDetail: Sendable, Codable, Equatable {
        public var run: RunRecord
        public var durationMilliseconds: Int?
        public var events: [EventRecord]
        public var deliveries: [DeliveryRecord]

        enum CodingKeys: String, CodingKey {
            case run, durationMilliseconds = "duration_ms", events, deliveries
        }
    }

    /// A delivery in the outbox.
    public struct OutboxEntry: Sendable, Codable, Equatable {
        public enum State: String, Sendable, Codable {
            /// Waiting for its next try.
            case waiting
            /// Being sent by some mcp-push process now.
            case sending
            /// Not delivered before MCP_PUSH_OUTBOX_MAX_AGE: nobody sends it any more.
            case expired
        }

        public var id: Int64
        public var channel: String
        public var state: State
        public var reason: QueueReason
        /// Whether this process's configuration can send it (else a process configured for its target will).
        public var sendableHere: Bool
        public var title: String
        public var createdAt: Date
        public var nextAttemptAt: Date
        public var expiresAt: Date?
        public var attempts: Int
        public var lastError: String?

        enum CodingKeys: String, CodingKey {
            case id, channel, state, reason, sendableHere = "sendable_here", title, createdAt = "created_at"
            case nextAttemptAt = "next_attempt_at", expiresAt = "expires_at", attempts, lastError = "last_error"
        }
    }

    /// Stable, readable JSON: sorted keys, RFC 3339 dates.
    public static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension Notifier {
    public func channelStatuses() async -> [Reports.ChannelStatus] {
        let store = await store
        let waiting = Dictionary(grouping: ((try? await store.outbox()) ?? []).filter { $0.expiredAt == nil }, by: \.channel).mapValues(\.count)
        let allowed = dispatcher.settings.allowedChannels
        var statuses: [Reports.ChannelStatus] = []
        for entry in setup.entries {
            let descriptor = entry.descriptor
            var status = Reports.ChannelStatus(
                id: descriptor.id, name: descriptor.displayName, state: .off, allowed: allowed?.contains(descriptor.id) ?? true,
                rateLimits: descriptor.rateLimits.map(\.description), queued: waiting[descriptor.id] ?? 0)
            switch entry.state {
            case .off: break
            case .misconfigured(let error):
                status.state = .misconfigured
                status.problem = redact(error.description) as String
            case .configured(let channel):
                status.state = .configured
                status.target = redact(channel.summary) as String
            }
            if let activity = try? await store.activity(channel: descriptor.id) {
                status.lastSuccess = activity.lastSuccess
                status.lastFailure = activity.lastFailure
                status.lastError = activity.lastError
            }
            statuses.append(status)
        }
        return statuses
    }

    public func recentRuns(limit: Int) async throws -> [RunRecord] {
        try await store.runs(limit: limit)
    }

    public func runDetail(_ runID: String) async throws -> Reports.RunDetail? {
        guard let found = try await store.run(runID) else { return nil }
        let duration = found.run.startedAt.flatMap { start in
            found.run.finishedAt.map { Int($0.timeIntervalSince(start) * 1000) }
        }
        return Reports.RunDetail(run: found.run, durationMilliseconds: duration, events: found.events, deliveries: found.deliveries)
    }

    public func recentDeliveries(limit: Int, channel: ChannelID? = nil) async throws -> [DeliveryRecord] {
        try await store.recentDeliveries(limit: limit, channel: channel)
    }

    public func outboxEntries(now: Date = Date()) async throws -> [Reports.OutboxEntry] {
        let targets = Set(setup.outboxTargets.map(\.fingerprint))
        let channels = Set(configuredChannels)
        return try await store.outbox().map { item in
            let state: Reports.OutboxEntry.State =
                item.expiredAt != nil ? .expired : (item.claimedUntil.map { $0 >= now } ?? false) ? .sending : .waiting
            return Reports.OutboxEntry(
                id: item.id, channel: item.channel, state: state, reason: item.reason,
                sendableHere: item.target.map(targets.contains) ?? channels.contains(item.channel),
                title: item.message.title, createdAt: item.createdAt, nextAttemptAt: item.nextAttemptAt,
                expiresAt: item.expiresAt, attempts: item.attempts, lastError: item.lastError)
        }
    }

    /// Gives up on one queued delivery; false when there is no such item (or it is being sent right now).
    public func dropFromOutbox(_ id: Int64) async throws -> Bool {
        try await store.removeFromOutbox(id, now: Date())
    }

    /// Makes every queued delivery due and works the outbox once.
    public func flushOutbox() async throws -> OutboxPass {
        _ = try await store.makeOutboxDue(now: Date())
        return await workOutbox()
    }
}
