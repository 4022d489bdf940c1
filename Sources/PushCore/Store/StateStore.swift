import Crypto
import Foundation

/// mcp-push's memory, whichever database holds it: runs and their events, the history of
/// deliveries, the outbox, rate-limit slots, recent messages, questions waiting for answers and
/// the leases of duties one process does for all. ``SQLiteStore`` (one file shared by the
/// processes of one user) is the embedded default; every operation means the same on any backend.
///
/// The store is never why a notification fails: a store that cannot be opened is replaced by one in
/// memory for the process, and ``problem`` says why.
package protocol StateStore: AnyObject, Sendable {
    /// Why the store is in memory although another was wanted (nil when all is well).
    var problem: String? { get }
    /// Whether what is written outlives this process (and is seen by other mcp-push processes).
    var isPersistent: Bool { get }
    /// The directory of the state on this machine (the approvals' key lives there); nil when none.
    var directoryPath: String? { get }
    /// Where the state lives, for people: a file's path, or "memory".
    var location: String { get }
    /// The version of the schema the store holds (migrations run when it is opened).
    func schemaVersion() async throws -> Int
    /// This process exits right after starting the one that continues its work: whatever closing
    /// would do that the next process does anyway is left to it.
    func handOverToNextProcess()

    // History
    func record(
        _ result: DispatchResult, title: String, runID: String?, notificationID: Int64?, rememberingDigest digest: String?,
        settling settlements: [(item: Int64, OutboxSettlement)], at: Date
    ) async throws -> Int64
    func beginCall(
        _ deliveries: [Store.PlannedDelivery], title: String, runID: String?, owner: String, lease: Duration, expiresAt: Date, now: Date
    ) async throws -> (notificationID: Int64, items: [ChannelID: (item: Int64, admission: Admission)])
    /// A call whose deliveries all wait for a background sender (a hook's): written ahead and recorded
    /// at once, since nothing is sent in between. `outcome` makes the call's result, and how each item
    /// waits, from each channel's item and admission.
    func handOver(
        _ deliveries: [Store.PlannedDelivery], title: String, runID: String?, expiresAt: Date, rememberingDigest digest: String?, now: Date,
        outcome: @escaping @Sendable (_ items: [ChannelID: (item: Int64, admission: Admission)]) -> HandedOver
    ) async throws -> (notificationID: Int64, result: DispatchResult)
    func recordOutboxDelivery(_ item: OutboxItem, result: ChannelResult, settlement: OutboxSettlement, at: Date) async throws
    func recentDeliveries(limit: Int, channel: String?) async throws -> [DeliveryRecord]
    func activity(channel: String) async throws -> ChannelActivity
    func prune(retentionDays: Int, now: Date, interval: TimeInterval) async throws

    // Rate limits and duplicates
    func reserveSlot(channel: String, limits: [RateLimit], now: Date) async throws -> RateDecision
    func isDuplicate(_ digest: String, window: Duration, now: Date) async throws -> Bool

    // The outbox
    func enqueue(
        channel: ChannelID, target: String?, message: Message, reason: QueueReason, notBefore: Date, attempts: Int,
        lastError: String?, notificationID: Int64?, expiresAt: Date?, now: Date
    ) async throws -> Int64
    func claimDue(owner: String, targets: [OutboxTarget], lease: Duration, limit: Int, now: Date) async throws -> [OutboxItem]
    func hasLiveOutboxItems() async throws -> Bool
    func nextDue(targets: [OutboxTarget]) async throws -> Date?
    func expire(maximumAge: Duration, now: Date) async throws -> [OutboxItem]
    func settle(_ settlements: [(item: Int64, OutboxSettlement)]) async throws
    func removeFromOutbox(_ id: Int64, now: Date) async throws -> Bool
    func makeOutboxDue(now: Date) async throws -> Int
    func outbox() async throws -> [OutboxItem]
    func outboxBacklog() async throws -> (count: Int, oldest: Date?)

    // Runs
    func record(_ event: RunEvent) async throws -> RunRecord?
    func runs(limit: Int) async throws -> [RunRecord]
    func run(_ runID: String) async throws -> (run: RunRecord, events: [EventRecord], deliveries: [DeliveryRecord])?
    func runMessages(_ runID: String) async throws -> [String: String]
    func rememberRunMessages(_ runID: String, _ messages: [String: String], now: Date) async throws

    // Questions and leases
    func createApproval(_ record: ApprovalRecord, tokens: [(digest: String, purpose: TokenPurpose)]) async throws
    func approval(id: String) async throws -> ApprovalRecord?
    func approval(tokenDigest digest: String) async throws -> (record: ApprovalRecord, purpose: TokenPurpose)?
    func answer(tokenDigest digest: String, page: String?, by who: String, via channel: String, now: Date) async throws -> TokenUse
    func closeApproval(id: String, as state: ApprovalRecord.State, now: Date) async throws -> ApprovalRecord?
    func recentApprovals(limit: Int) async throws -> [ApprovalRecord]
    func pendingApprovals(now: Date) async throws -> Int
    func takeLease(_ name: String, holder: String, for duration: Duration, now: Date) async throws -> Bool
    func releaseLease(_ name: String, holder: String) async throws
    func leaseValue(_ name: String) async throws -> String?
    func setLeaseValue(_ name: String, _ value: String) async throws
    /// A random 32-byte key under `name`, made once and the same for every process of this state; nil
    /// where the state keeps no secrets of its own (the SQLite file: keys are files beside it).
    func sharedKey(_ name: String) async throws -> [UInt8]?
}

/// A handed-over call's result, and how each of its outbox items waits.
package typealias HandedOver = (result: DispatchResult, settlements: [(item: Int64, OutboxSettlement)])

/// What every backend shares: where the state lives, and how a message is keyed.
public enum Store {
    /// `$MCP_PUSH_STATE_DIR`, else `$XDG_STATE_HOME/mcp-push`, else `~/.local/state/mcp-push`.
    public static func directory(configuration: Configuration) -> String {
        if let explicit = configuration["MCP_PUSH_STATE_DIR"] { return explicit }
        if let xdg = configuration["XDG_STATE_HOME"] { return "\(xdg)/mcp-push" }
        let home = configuration["HOME"] ?? NSHomeDirectory()
        return "\(home)/.local/state/mcp-push"
    }

    /// One channel's part of a call about to be sent.
    package struct PlannedDelivery: Sendable {
        public var target: OutboxTarget
        public var message: Message

        public init(target: OutboxTarget, message: Message) {
            self.target = target
            self.message = message
        }
    }

    /// Identifies a message for duplicate detection (title, content and the channels asked for).
    package static func digest(of message: Message, channels: [ChannelID]?) -> String {
        var key = [message.title, message.body, (channels ?? []).sorted().joined(separator: ",")].joined(separator: "\u{0}")
        // Another link is another message (the same words may lead to two questions' pages).
        if let url = message.url { key += "\u{0}" + url }
        return hex(SHA256.hash(data: Array(key.utf8)))  // not Data(_:), whose generic init costs a run-time cast
    }

    /// Lower-case hex, without `String(format:)`, which costs more than the hash itself.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The defaults callers lean on: now, no run, nothing else to settle.
extension StateStore {
    /// A server's connections hold nothing the next process could use.
    package func handOverToNextProcess() {}

    /// A hand-over as a write-ahead then a record (two transactions; SQLite does it in one). Once the
    /// write-ahead is in, the call is handed over whatever follows: killed in between, or the record
    /// refused, its items stay claimed for a minute and are then sent by whoever comes next (the caller
    /// must not send them itself as well).
    package func handOver(
        _ deliveries: [Store.PlannedDelivery], title: String, runID: String?, expiresAt: Date, rememberingDigest digest: String?, now: Date,
        outcome: @escaping @Sendable (_ items: [ChannelID: (item: Int64, admission: Admission)]) -> HandedOver
    ) async throws -> (notificationID: Int64, result: DispatchResult) {
        let begun = try await beginCall(deliveries, title: title, runID: runID, owner: Outbox.owner, lease: .seconds(60), expiresAt: expiresAt, now: now)
        var (result, settlements) = outcome(begun.items)
        let reached = result.results.contains { $0.ok || $0.queued }
        do {
            _ = try await record(
                result, title: title, runID: runID, notificationID: begun.notificationID, rememberingDigest: reached ? digest : nil,
                settling: settlements, at: now)
        } catch {
            result.warnings.append("history not recorded: the store failed after the write-ahead; the message goes out within a minute")
        }
        return (begun.notificationID, result)
    }

    package func record(
        _ result: DispatchResult, title: String, runID: String? = nil, notificationID: Int64? = nil, rememberingDigest digest: String? = nil,
        settling settlements: [(item: Int64, OutboxSettlement)] = []
    ) async throws -> Int64 {
        try await record(result, title: title, runID: runID, notificationID: notificationID, rememberingDigest: digest, settling: settlements, at: Date())
    }

    package func isDuplicate(_ digest: String, window: Duration) async throws -> Bool {
        try await isDuplicate(digest, window: window, now: Date())
    }

    package func expire(maximumAge: Duration) async throws -> [OutboxItem] { try await expire(maximumAge: maximumAge, now: Date()) }
    package func pendingApprovals() async throws -> Int { try await pendingApprovals(now: Date()) }
    package func rememberRunMessages(_ runID: String, _ messages: [String: String]) async throws {
        try await rememberRunMessages(runID, messages, now: Date())
    }
}
