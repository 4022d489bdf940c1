import Crypto
import Foundation
import GRDB

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

public enum RateDecision: Sendable, Equatable {
    /// A slot was taken: send now.
    case send
    /// Over the limit until then.
    case wait(until: Date, limit: RateLimit)
}

extension Store {
    /// Takes a send slot for `channel` if every limit allows one now, atomically across processes.
    public func reserveSlot(channel: String, limits: [RateLimit], now: Date = Date()) throws -> RateDecision {
        guard !limits.isEmpty else { return .send }
        return try exclusive { db in
            let time = now.timeIntervalSince1970
            var waitUntil: (Double, RateLimit)?
            for limit in limits {
                // Services count at arrival, and a slot is taken before its request travels: a 5 %
                // margin keeps a slow earlier request and a fast later one from landing in one window.
                let window = Double(limit.window.milliseconds) / 1000 * 1.05
                let recent = try Double.fetchAll(
                    db, sql: "SELECT at FROM rate_slot WHERE channel = ? AND at > ? ORDER BY at DESC",
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
            try db.execute(sql: "INSERT INTO rate_slot(channel, at) VALUES (?, ?)", arguments: [channel, time])
            return .send
        }
    }

    /// True when the same message was pushed within `window`; otherwise remembers it.
    public func isDuplicate(_ digest: String, window: Duration, now: Date = Date()) throws -> Bool {
        try exclusive { db in
            let time = now.timeIntervalSince1970
            let seen = try Double.fetchOne(db, sql: "SELECT at FROM recent_message WHERE digest = ?", arguments: [digest])
            if let seen, time - seen < Double(window.milliseconds) / 1000 {
                return true
            }
            return false
        }
    }

    public func remember(_ digest: String, now: Date = Date()) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT INTO recent_message(digest, at) VALUES (?, ?) ON CONFLICT(digest) DO UPDATE SET at = excluded.at",
                arguments: [digest, now.timeIntervalSince1970])
        }
    }

    /// Identifies a message for duplicate detection (title, content and the channels asked for).
    public static func digest(of message: Message, channels: [ChannelID]?) -> String {
        let key = [message.title, message.body, (channels ?? []).sorted().joined(separator: ",")].joined(separator: "\u{0}")
        return SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
