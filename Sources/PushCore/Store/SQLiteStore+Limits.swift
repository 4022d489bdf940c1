import Crypto
import Foundation
import GRDB

extension SQLiteStore {
    /// Takes a send slot for `channel` if every limit allows one now, atomically across processes.
    package func reserveSlot(channel: String, limits: [RateLimit], now: Date = Date()) throws -> RateDecision {
        guard !limits.isEmpty else { return .send }
        return try exclusive { db in try Self.takeSlot(db, channel: channel, limits: limits, at: now) }
    }

    /// Admits channels in a single transaction (one lock, one commit, rather than two round
    /// trips per channel): a channel with messages already waiting queues behind them;
    /// otherwise it takes a slot or learns when the next one is free.
    package func admit(_ channels: [(id: String, limits: [RateLimit])], now: Date = Date()) throws -> [String: Admission] {
        let limited = channels.filter { !$0.limits.isEmpty }
        guard !limited.isEmpty else { return [:] }
        return try exclusive { db in
            var admissions: [String: Admission] = [:]
            for channel in limited {
                admissions[channel.id] = try Self.admission(db, channel: channel.id, target: nil, limits: channel.limits, at: now)
            }
            return admissions
        }
    }

    /// One channel's admission inside a transaction. Items waiting for `target` (or for any
    /// target of the channel when nil) hold a new message back, in order; items under way in
    /// some process do not.
    static func admission(_ db: Database, channel: String, target: String?, limits: [RateLimit], at now: Date) throws -> Admission {
        guard !limits.isEmpty else { return .send }
        let waiting = try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT EXISTS(SELECT 1 FROM outbox WHERE channel = :channel AND expired_at IS NULL
                                  AND (:target IS NULL OR target IS NULL OR target = :target)
                                  AND (claimed_until IS NULL OR claimed_until < :now))
                    """),
            arguments: ["channel": channel, "target": target, "now": now.timeIntervalSince1970]) ?? false
        return waiting ? .queueBehind : Admission(try takeSlot(db, channel: channel, limits: limits, at: now))
    }

    private static func takeSlot(_ db: Database, channel: String, limits: [RateLimit], at now: Date) throws -> RateDecision {
        let time = now.timeIntervalSince1970
        var waitUntil: (Double, RateLimit)?
        for limit in limits {
            // Services count at arrival, and a slot is taken before its request travels: a 5 %
            // margin keeps a slow earlier request and a fast later one from landing in one window.
            let window = Double(limit.window.milliseconds) / 1000 * 1.05
            let recent = try Double.fetchAll(
                db.cachedStatement(sql: "SELECT at FROM rate_slot WHERE channel = ? AND at > ? ORDER BY at DESC"),
                arguments: [channel, time - window])
            if recent.count >= limit.count {
                // Free again when the slot that keeps us at the limit leaves the window.
                let freeAt = recent[limit.count - 1] + window
                if waitUntil == nil || freeAt > waitUntil!.0 { waitUntil = (freeAt, limit) }
            }
        }
        if let (until, limit) = waitUntil {
            return .wait(until: Date(timeIntervalSince1970: until), limit: limit)
        }
        try db.cachedStatement(sql: "INSERT INTO rate_slot(channel, at) VALUES (?, ?)").execute(arguments: [channel, time])
        return .send
    }

    /// True when the same message was pushed within `window` (``record(_:title:runID:rememberingDigest:outboxItems:at:)``
    /// remembers what was pushed).
    package func isDuplicate(_ digest: String, window: Duration, now: Date = Date()) throws -> Bool {
        try lookup { db in
            let time = now.timeIntervalSince1970
            let seen = try Double.fetchOne(
                db.cachedStatement(sql: "SELECT at FROM recent_message WHERE digest = ?"), arguments: [digest])
            if let seen, time - seen < Double(window.milliseconds) / 1000 {
                return true
            }
            return false
        }
    }

    static func remember(_ digest: String, in db: Database, at now: Date) throws {
        try db.cachedStatement(
            sql: "INSERT INTO recent_message(digest, at) VALUES (?, ?) ON CONFLICT(digest) DO UPDATE SET at = excluded.at"
        ).execute(arguments: [digest, now.timeIntervalSince1970])
    }

}
