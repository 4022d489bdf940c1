import Foundation
import GRDB

extension SQLiteStore {
    /// Per-call statements are cached on the connection: preparing them anew was about a tenth of
    /// the CPU of a 21-channel call (docs/PERFORMANCE.md).
    static func insertDelivery(
        _ db: Database, notificationID: Int64?, channel: ChannelID, ok: Bool, queued: Bool, statusCode: Int?, error: String?,
        attempts: Int, durationMilliseconds: Int, at: Date, source: DeliverySource
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO delivery(notification_id, channel, ok, queued, status_code, error, attempts, duration_ms, at, source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                notificationID, channel, ok, queued, statusCode, error, attempts, durationMilliseconds, at.timeIntervalSince1970,
                source.rawValue,
            ])
    }

    static func insertDelivery(_ db: Database, _ result: ChannelResult, notificationID: Int64?, at: Date, source: DeliverySource) throws {
        try insertDelivery(
            db, notificationID: notificationID, channel: result.channel, ok: result.ok, queued: result.queued,
            statusCode: result.statusCode, error: result.error, attempts: result.attempts,
            durationMilliseconds: result.durationMilliseconds, at: at, source: source)
    }

    /// Records one notification and its per-channel results, in one transaction with what
    /// goes with it: the digest remembered for duplicate detection, and the outbox items of
    /// the call settled. `notificationID` is the row ``beginCall(_:title:runID:owner:lease:expiresAt:now:)``
    /// wrote ahead; without it a new row is added. Returns the notification's id.
    @discardableResult
    package func record(
        _ result: DispatchResult, title: String, runID: String? = nil, notificationID: Int64? = nil,
        rememberingDigest digest: String? = nil, settling settlements: [(item: Int64, OutboxSettlement)] = [], at: Date = Date()
    ) async throws -> Int64 {
        try await groupCommit.write { db in
            if let digest { try Self.remember(digest, in: db, at: at) }
            let id: Int64
            if let notificationID {
                id = notificationID
            } else {
                id = try Self.insertNotification(db, title: title, runID: runID, status: result.status.rawValue, message: result.message, at: at)
            }
            try Self.recordResults(db, result, notificationID: id, updatingStatus: notificationID != nil, at: at)
            try Self.settle(settlements, in: db)
            return id
        }
    }

    private static func recordResults(_ db: Database, _ result: DispatchResult, notificationID: Int64, updatingStatus: Bool, at: Date) throws {
        if updatingStatus {
            try db.cachedStatement(sql: "UPDATE notification SET status = ?, message = ? WHERE id = ?")
                .execute(arguments: [result.status.rawValue, result.message, notificationID])
        }
        for item in result.results {
            try insertDelivery(db, item, notificationID: notificationID, at: at, source: .call)
        }
    }

    static func insertNotification(_ db: Database, title: String, runID: String?, status: String, message: String, at: Date) throws -> Int64 {
        try db.cachedStatement(sql: "INSERT INTO notification(at, title, run_id, status, message) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [at.timeIntervalSince1970, title, runID, status, message])
        let id = db.lastInsertedRowID
        if let runID {
            try db.cachedStatement(
                sql: "UPDATE event SET notification_id = ? WHERE id = (SELECT id FROM event WHERE run_id = ? ORDER BY id DESC LIMIT 1)"
            ).execute(arguments: [id, runID])
        }
        return id
    }

    /// The write-ahead of one call, in one IMMEDIATE transaction: the notification (status
    /// `sending`), and per channel its rate-limit admission and an outbox item, claimed by
    /// `owner` until `lease` passes when it goes now (so a process killed mid-send leaves it
    /// to the next one), or waiting for its turn otherwise.
    package func beginCall(
        _ deliveries: [Store.PlannedDelivery], title: String, runID: String?, owner: String, lease: Duration, expiresAt: Date,
        now: Date = Date()
    ) async throws -> (notificationID: Int64, items: [ChannelID: (item: Int64, admission: Admission)]) {
        try await groupCommit.write { db in
            let notificationID = try Self.insertNotification(db, title: title, runID: runID, status: "sending", message: "being sent", at: now)
            let items = try Self.writeAhead(
                db, deliveries, notificationID: notificationID, expiresAt: expiresAt, now: now,
                goingNow: (now, .interrupted, owner, now.addingTimeInterval(lease.seconds)))
            return (notificationID, items)
        }
    }

    /// ``StateStore/handOver(_:title:runID:expiresAt:rememberingDigest:now:outcome:)`` in one transaction:
    /// nothing is sent between the write-ahead and the record, so one commit instead of two (about
    /// 1 ms of a hook's 8, docs/PERFORMANCE.md). Its items are never claimed: a sender may take them
    /// as soon as this commits.
    package func handOver(
        _ deliveries: [Store.PlannedDelivery], title: String, runID: String?, expiresAt: Date, rememberingDigest digest: String?, now: Date,
        outcome: @escaping @Sendable (_ items: [ChannelID: (item: Int64, admission: Admission)]) -> HandedOver
    ) async throws -> (notificationID: Int64, result: DispatchResult) {
        try await groupCommit.write { db in
            let notificationID = try Self.insertNotification(db, title: title, runID: runID, status: "sending", message: "being sent", at: now)
            let items = try Self.writeAhead(
                db, deliveries, notificationID: notificationID, expiresAt: expiresAt, now: now, goingNow: (now, .handedOver, nil, nil))
            let (result, settlements) = outcome(items)
            if let digest, result.results.contains(where: { $0.ok || $0.queued }) { try Self.remember(digest, in: db, at: now) }
            try Self.recordResults(db, result, notificationID: notificationID, updatingStatus: true, at: now)
            try Self.settle(settlements, in: db)
            return (notificationID, result)
        }
    }

    /// Per channel, its rate-limit admission and its outbox item: one that may go now gets
    /// `goingNow` (due time, reason, claim); one held back by its limit waits, unclaimed, for its turn.
    private static func writeAhead(
        _ db: Database, _ deliveries: [Store.PlannedDelivery], notificationID: Int64, expiresAt: Date, now: Date,
        goingNow: (at: Date, reason: QueueReason, owner: String?, claimedUntil: Date?)
    ) throws -> [ChannelID: (item: Int64, admission: Admission)] {
        var items: [ChannelID: (item: Int64, admission: Admission)] = [:]
        for delivery in deliveries {
            let target = delivery.target
            let admission = try admission(db, channel: target.channel, target: target.fingerprint, limits: target.rateLimits, at: now)
            let item: Int64
            switch admission {
            case .send:
                item = try insertOutboxItem(
                    db, channel: target.channel, target: target.fingerprint, message: delivery.message, notificationID: notificationID,
                    reason: goingNow.reason, notBefore: goingNow.at, expiresAt: expiresAt, claimedBy: goingNow.owner,
                    claimedUntil: goingNow.claimedUntil, now: now)
            case .queueBehind, .wait:
                let notBefore: Date
                if case .wait(let until, _) = admission { notBefore = until } else { notBefore = now }
                item = try insertOutboxItem(
                    db, channel: target.channel, target: target.fingerprint, message: delivery.message, notificationID: notificationID,
                    reason: .rateLimit, notBefore: notBefore, expiresAt: expiresAt, claimedBy: nil, claimedUntil: nil, now: now)
            }
            items[target.channel] = (item, admission)
        }
        return items
    }

    /// Records a delivery made later by the outbox, under the notification it belongs to, and
    /// settles the item, in one transaction.
    package func recordOutboxDelivery(_ item: OutboxItem, result: ChannelResult, settlement: OutboxSettlement, at: Date = Date()) async throws {
        try await groupCommit.write { db in
            if settlement == .remove {
                try Self.insertDelivery(db, result, notificationID: item.notificationID, at: at, source: .outbox)
            }
            try Self.settle([(item.id, settlement)], in: db)
        }
    }

    package func recentDeliveries(limit: Int, channel: String? = nil) throws -> [DeliveryRecord] {
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

    package func activity(channel: String) throws -> ChannelActivity {
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

extension DeliveryRecord {
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
        source = DeliverySource(rawValue: row["source"]) ?? .call
    }
}
