import Foundation
import GRDB

/// A delivery waiting to be retried in the background.
public struct OutboxItem: Sendable, Equatable {
    public var id: Int64
    public var channel: String
    public var message: Message
    public var notificationID: Int64?
    /// `retry` (failed transiently) or `rate_limit` (held back by the channel's limit).
    public var reason: String
    public var createdAt: Date
    public var nextAttemptAt: Date
    public var attempts: Int
    public var lastError: String?

    init(row: Row) {
        id = row["id"]
        channel = row["channel"]
        message = Message(title: row["title"], body: row["body"])
        notificationID = row["notification_id"]
        reason = row["reason"]
        createdAt = Date(timeIntervalSince1970: row["created_at"])
        nextAttemptAt = Date(timeIntervalSince1970: row["next_attempt_at"])
        attempts = row["attempts"]
        lastError = row["last_error"]
    }
}

extension Store {
    @discardableResult
    public func enqueue(
        channel: String, message: Message, reason: String, notBefore: Date, attempts: Int, lastError: String?,
        notificationID: Int64? = nil, now: Date = Date()
    ) throws -> Int64 {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO outbox(channel, title, body, notification_id, reason, created_at, next_attempt_at, attempts, last_error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [channel, message.title, message.body, notificationID, reason, now.timeIntervalSince1970, notBefore.timeIntervalSince1970, attempts, lastError])
            return db.lastInsertedRowID
        }
    }
    /// Claims due items for `owner` until `lease` passes, in one IMMEDIATE transaction, so
    /// two processes never take the same item. Items of a channel come in queue order, and
    /// a channel whose oldest item is not due yet holds back its later ones.
    public func claimDue(owner: String, lease: Duration, limit: Int, now: Date = Date()) throws -> [OutboxItem] {
        try exclusive { db in
            let time = now.timeIntervalSince1970
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox o
                    WHERE (o.claimed_until IS NULL OR o.claimed_until < :now)
                      AND o.next_attempt_at <= :now
                      AND NOT EXISTS (SELECT 1 FROM outbox earlier WHERE earlier.channel = o.channel AND earlier.id < o.id
                                      AND (earlier.next_attempt_at > :now OR earlier.claimed_until >= :now))
                    ORDER BY o.id LIMIT :limit
                    """,
                arguments: ["now": time, "limit": limit])
            let items = rows.map(OutboxItem.init)
            let until = time + Double(lease.milliseconds) / 1000
            for item in items {
                try db.execute(sql: "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?", arguments: [owner, until, item.id])
            }
            return items
        }
    }

    /// The item was delivered, or given up on: it leaves the outbox for good.
    public func removeFromOutbox(_ id: Int64) throws {
        try database.write { db in try db.execute(sql: "DELETE FROM outbox WHERE id = ?", arguments: [id]) }
    }

    /// Puts a claimed item back, to be tried at `at`.
    public func reschedule(_ id: Int64, at: Date, attempts: Int, lastError: String?) throws {
        try database.write { db in
            try db.execute(
                sql: "UPDATE outbox SET next_attempt_at = ?, attempts = ?, last_error = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?",
                arguments: [at.timeIntervalSince1970, attempts, lastError, id])
        }
    }

    /// Makes every waiting item due now (`mcp-push outbox --flush`).
    public func makeOutboxDue(now: Date = Date()) throws -> Int {
        try database.write { db in
            try db.execute(sql: "UPDATE outbox SET next_attempt_at = ? WHERE next_attempt_at > ? AND reason = 'retry'", arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    public func outbox() throws -> [OutboxItem] {
        try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id").map(OutboxItem.init) }
    }
}
