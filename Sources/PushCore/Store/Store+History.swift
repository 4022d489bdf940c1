import Foundation
import GRDB

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
    /// `call` (sent while the caller waited) or `outbox` (sent later, in the background).
    public var source: String

    enum CodingKeys: String, CodingKey {
        case channel, title, ok, queued, statusCode = "status_code", error, attempts
        case durationMilliseconds = "duration_ms", at, source
    }

    init(row: Row) {
        channel = row["channel"]
        title = row.hasColumn("title") ? row["title"] : nil
        ok = row["ok"]
        queued = row["queued"]
        statusCode = row["status_code"]
        error = row["error"]
        attempts = row["attempts"]
        durationMilliseconds = row["duration_ms"]
        at = Date(timeIntervalSince1970: row["at"])
        source = row["source"]
    }
}

/// What the store knows of a channel's recent deliveries.
public struct ChannelActivity: Sendable, Equatable {
    public var lastSuccess: Date?
    public var lastFailure: Date?
    public var lastError: String?
}

extension Store {
    /// Records one notification and its per-channel results, in one transaction with what
    /// goes with it: the digest remembered for duplicate detection, and the outbox items the
    /// call queued, attached to it. Returns the notification's id.
    ///
    /// Per-call statements are cached on the connection: preparing them anew was about a tenth of
    /// the CPU of a 21-channel call (docs/PERFORMANCE.md).
    @discardableResult
    public func record(
        _ result: DispatchResult, title: String, runID: String? = nil, rememberingDigest digest: String? = nil,
        outboxItems: [Int64] = [], at: Date = Date()
    ) throws -> Int64 {
        try database.write { db in
            if let digest { try Self.remember(digest, in: db, at: at) }
            try db.cachedStatement(sql: "INSERT INTO notification(at, title, run_id, status, message) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [at.timeIntervalSince1970, title, runID, result.status.rawValue, result.message])
            let id = db.lastInsertedRowID
            let insertDelivery = try db.cachedStatement(
                sql: """
                    INSERT INTO delivery(notification_id, channel, ok, queued, status_code, error, attempts, duration_ms, at, source)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'call')
                    """)
            for item in result.results {
                try insertDelivery.execute(
                    arguments: [id, item.channel, item.ok, item.queued, item.statusCode, item.error, item.attempts, item.durationMilliseconds, at.timeIntervalSince1970])
            }
            if let runID {
                try db.cachedStatement(
                    sql: "UPDATE event SET notification_id = ? WHERE id = (SELECT id FROM event WHERE run_id = ? ORDER BY id DESC LIMIT 1)"
                ).execute(arguments: [id, runID])
            }
            for item in outboxItems {
                try db.cachedStatement(sql: "UPDATE outbox SET notification_id = ? WHERE id = ?").execute(arguments: [id, item])
            }
            return id
        }
    }

    /// Records a delivery made later by the outbox, under the notification it belongs to.
    public func recordOutboxDelivery(_ item: OutboxItem, result: ChannelResult, at: Date = Date()) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO delivery(notification_id, channel, ok, queued, status_code, error, attempts, duration_ms, at, source)
                    VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, 'outbox')
                    """,
                arguments: [item.notificationID, item.channel, result.ok, result.statusCode, result.error, result.attempts, result.durationMilliseconds, at.timeIntervalSince1970])
        }
    }

    public func recentDeliveries(limit: Int, channel: String? = nil) throws -> [DeliveryRecord] {
        try database.read { db in
            let filter = channel == nil ? "" : "WHERE delivery.channel = ?"
            let arguments: StatementArguments = channel.map { [$0, limit] } ?? [limit]
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT delivery.*, notification.title AS title FROM delivery
                    LEFT JOIN notification ON notification.id = delivery.notification_id
                    \(filter) ORDER BY delivery.at DESC, delivery.id DESC LIMIT ?
                    """,
                arguments: arguments
            ).map(DeliveryRecord.init)
        }
    }

    public func activity(channel: String) throws -> ChannelActivity {
        try database.read { db in
            let success: Double? = try Double.fetchOne(db, sql: "SELECT MAX(at) FROM delivery WHERE channel = ? AND ok = 1", arguments: [channel])
            let failure = try Row.fetchOne(
                db, sql: "SELECT at, error FROM delivery WHERE channel = ? AND ok = 0 ORDER BY at DESC LIMIT 1", arguments: [channel])
            return ChannelActivity(
                lastSuccess: success.map(Date.init(timeIntervalSince1970:)),
                lastFailure: (failure?["at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                lastError: failure?["error"])
        }
    }
}
