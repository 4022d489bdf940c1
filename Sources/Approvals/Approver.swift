import Foundation
import Logging
import PushCore
import Synchronization

/// A question for the person, answered from the phone.
public struct ApprovalQuestion: Sendable {
    public enum Kind: String, Sendable {
        /// An agent's permission prompt: Allow or Deny.
        case permission
        /// `notify_ask` / `mcp-push ask`: one of a few options.
        case question
    }

    public var kind: Kind
    public var title: String
    public var detail: String
    public var options: [String]
    public var timeout: Duration
    public var agent: String?

    public init(kind: Kind, title: String, detail: String, options: [String], timeout: Duration, agent: String? = nil) {
        self.kind = kind
        self.title = title
        self.detail = detail
        self.options = options
        self.timeout = timeout
        self.agent = agent
    }
}

public struct ApprovalAnswer: Sendable, Equatable {
    public var choice: Int
    public var label: String
    /// Who answered, as the channel knows them (`@alice`, `web page`, `ntfy`).
    public var by: String
    /// The channel the answer came through: telegram, ntfy or web.
    public var via: String
}

public enum ApprovalOutcome: Sendable, Equatable {
    case answered(ApprovalAnswer)
    /// Nobody answered in time: no decision (never an allow).
    case timedOut
    /// The asker stopped waiting first.
    case withdrawn
    /// The question could not be asked (approvals off, no answering channel, every send failed).
    case unavailable(String)
}

/// Asks the person a question on every channel that can answer (Telegram buttons, ntfy actions,
/// the web page) and on the others with the page's link, then waits for the first answer.
/// Answers meet in the shared store, so a process can wait while another reads the answers.
public final class Approver: Sendable {
    public let settings: ApprovalSettings
    let notifier: Notifier
    let telegram: TelegramAnswers?
    let ntfy: NtfyAnswers?
    let logger: Logger

    public init(configuration: Configuration, notifier: Notifier, logger: Logger) throws(ConfigurationError) {
        settings = try ApprovalSettings(configuration: configuration)
        self.notifier = notifier
        self.logger = logger
        let redact: @Sendable (String) -> String = { [notifier] in notifier.redact($0) }
        let configured = notifier.setup.configured
        telegram = configured.lazy.compactMap { $0 as? Telegram }.first.flatMap {
            TelegramAnswers(telegram: $0, http: notifier.http, logger: logger, redact: redact)
        }
        ntfy = configured.lazy.compactMap { $0 as? Ntfy }.first.map {
            NtfyAnswers(ntfy: $0, http: notifier.http, logger: logger, redact: redact)
        }
    }

    /// The channels answers can come from.
    public var answeringChannels: [String] {
        var names: [String] = []
        if telegram != nil { names.append("telegram") }
        if ntfy != nil { names.append("ntfy") }
        if settings.publicURL != nil { names.append("web") }
        return names
    }

    /// Why a question cannot be asked now; nil when it can.
    public var unavailableReason: String? {
        if settings.enabled == false { return "approvals are off (\(ApprovalSettings.switchVariable)=off)" }
        if answeringChannels.isEmpty {
            return "no channel can answer: configure Telegram (TG_BOT_TOKEN with your own numeric TG_USER_ID), ntfy (NTFY_TOPIC), or \(ApprovalSettings.publicURLVariable) for the web page"
        }
        return nil
    }

    public var isAvailable: Bool { unavailableReason == nil }

    /// Asks and waits up to the question's timeout. `created` receives the request's id as soon
    /// as it exists (to withdraw it if the process is stopped); `waiting` is called about every
    /// `heartbeat` with the time left; `decided` gets the outcome as soon as it is known, before
    /// the messages are updated (a hook answers its agent first).
    public func ask(
        _ question: ApprovalQuestion, heartbeat: Duration = .seconds(5), created: @Sendable (String) -> Void = { _ in },
        decided: @Sendable (ApprovalOutcome) -> Void = { _ in }, waiting: (@Sendable (Duration) async -> Void)? = nil
    ) async -> ApprovalOutcome {
        if let reason = unavailableReason { return .unavailable(reason) }
        let store = await notifier.store
        let signer = await TokenSigner.load(store: store)
        let answers = question.options.map { _ in OneTimeToken() }
        let page = OneTimeToken()
        let id = OneTimeToken().text
        let now = Date()
        let expires = now.addingTimeInterval(question.timeout.seconds)
        // The page works only where the server can see the request: in the shared store.
        let link = store.isPersistent ? settings.publicURL.map { "\($0)\(ApprovalPages.pathPrefix)\(page.text)" } : nil
        var digests = answers.enumerated().map { (digest: signer.digest($1), purpose: TokenPurpose.answer($0)) }
        if link != nil {
            digests.append((signer.digest(page), .page))
            digests += question.options.indices.map { (signer.digest(signer.derive(from: page, choice: $0)), .answer($0)) }
        }
        let record = ApprovalRecord(
            id: id, kind: question.kind.rawValue, title: question.title, detail: question.detail, options: question.options,
            createdAt: now, expiresAt: expires, agent: question.agent)
        do {
            try await store.createApproval(record, tokens: digests)
        } catch {
            return .unavailable("the question could not be stored: \(notifier.redact(String(describing: error)))")
        }
        created(id)

        let holder = "\(getpid()):\(id)"
        let replyTopic = NtfyAnswers.replyTopic()
        var listeners: [Task<Void, Never>] = []
        if let telegram {
            listeners.append(Task { await telegram.poll(store: store, signer: signer, holder: holder, pollTime: settings.telegramPoll) })
        }
        if let ntfy {
            listeners.append(Task { await ntfy.listen(replyTopic: replyTopic, since: now, store: store, signer: signer) })
        }
        defer { listeners.forEach { $0.cancel() } }

        let text = Self.text(question.detail, link: link, until: expires)
        async let telegramSent = sendTelegram(question, text: text, tokens: answers)
        // ntfy and the other channels carry the link in a field of their own (or append it themselves).
        let plainText = Self.text(question.detail, link: nil, until: expires)
        async let ntfySent = sendNtfy(question, text: plainText, tokens: answers, replyTopic: replyTopic, link: link)
        async let othersReached = sendOthers(question, text: plainText, link: link)
        let sent = await [telegramSent, ntfySent]
        let reachedOthers = await othersReached
        let failures = sent.compactMap(\.failure)
        failures.forEach { logger.warning("approval question not delivered: \($0)") }
        guard sent.contains(where: \.isSent) || reachedOthers else {
            _ = try? await store.closeApproval(id: id, as: .withdrawn, now: Date())
            let why = failures.isEmpty ? "no configured channel accepted it (see `mcp-push doctor`)" : failures.joined(separator: "; ")
            return .unavailable("no answering channel took the question: \(why)")
        }

        let final = await wait(id: id, store: store, until: expires, heartbeat: heartbeat, waiting: waiting)
        let outcome = Self.outcome(final)
        decided(outcome)
        listeners.forEach { $0.cancel() }
        // Let the poller finish what it read (acknowledging presses), briefly: the process may exit next.
        await Self.waitBriefly(for: listeners, upTo: .seconds(3))
        if let telegram, case .sent(let messageID?) = sent[0] {
            await telegram.finish(messageID: messageID, text: "\(question.title)\n\n\(question.detail)\n\n→ \(Self.outcomeText(final))")
        }
        // The poller stops with its task; the lease is given up now so another waiting process polls at once.
        if let telegram { try? await store.releaseLease(telegram.leaseName, holder: holder) }
        return outcome
    }

    static func waitBriefly(for tasks: [Task<Void, Never>], upTo limit: Duration) async {
        let finished = Mutex(false)
        let all = Task {
            for task in tasks { await task.value }
            finished.withLock { $0 = true }
        }
        let deadline = ContinuousClock.now + limit
        while !finished.withLock({ $0 }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        _ = all
    }

    static func outcome(_ final: ApprovalRecord?) -> ApprovalOutcome {
        guard let final else { return .withdrawn }
        switch final.state {
        case .answered:
            // An answer without its option is no answer: never an allow by default.
            guard let choice = final.answer, let label = final.answerLabel else { return .timedOut }
            return .answered(ApprovalAnswer(choice: choice, label: label, by: final.answeredBy ?? "", via: final.answeredVia ?? ""))
        case .expired, .pending: return .timedOut
        case .withdrawn: return .withdrawn
        }
    }

    /// Ends a question this process asked, unanswered (the agent was answered in the terminal).
    public func withdraw(id: String) async {
        _ = try? await notifier.store.closeApproval(id: id, as: .withdrawn, now: Date())
    }

    private func wait(
        id: String, store: any StateStore, until expires: Date, heartbeat: Duration, waiting: (@Sendable (Duration) async -> Void)?
    ) async -> ApprovalRecord? {
        var lastBeat = Date()
        while true {
            if let record = try? await store.approval(id: id), record.state != .pending { return record }
            let now = Date()
            if now >= expires || Task.isCancelled {
                return try? await store.closeApproval(id: id, as: Task.isCancelled ? .withdrawn : .expired, now: now)
            }
            if let waiting, now.timeIntervalSince(lastBeat) >= heartbeat.seconds {
                lastBeat = now
                await waiting(.seconds(expires.timeIntervalSince(now)))
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// What sending the question on one answering channel did.
    enum Sending: Sendable {
        case notConfigured
        /// Sent; Telegram's message id, to edit it once decided.
        case sent(Int?)
        case failed(String)

        var isSent: Bool { if case .sent = self { true } else { false } }
        var failure: String? { if case .failed(let reason) = self { reason } else { nil } }
    }

    private func sendTelegram(_ question: ApprovalQuestion, text: String, tokens: [OneTimeToken]) async -> Sending {
        guard let telegram else { return .notConfigured }
        do {
            return .sent(try await telegram.send("\(question.title)\n\n\(text)", options: question.options, tokens: tokens))
        } catch {
            return .failed(notifier.redact(String(describing: error)))
        }
    }

    private func sendNtfy(
        _ question: ApprovalQuestion, text: String, tokens: [OneTimeToken], replyTopic: String, link: String?
    ) async -> Sending {
        guard let ntfy else { return .notConfigured }
        do {
            try await ntfy.send(title: question.title, text: text, options: question.options, tokens: tokens, replyTopic: replyTopic, link: link)
            return .sent(nil)
        } catch {
            return .failed(notifier.redact(String(describing: error)))
        }
    }

    /// The other configured channels get the question with the page's link (when there is a page):
    /// any channel that carries a URL can then answer.
    private func sendOthers(_ question: ApprovalQuestion, text: String, link: String?) async -> Bool {
        var answering: Set<String> = []
        if telegram != nil { answering.insert(Telegram.descriptor.id) }
        if ntfy != nil { answering.insert(Ntfy.descriptor.id) }
        let others = notifier.configuredChannels.filter { !answering.contains($0) }
        guard !others.isEmpty else { return false }
        do {
            let result = try await notifier.send(title: question.title, content: text, channels: others, url: link, level: .warning)
            logger.info("approval question to \(others.joined(separator: ", ")): \(result.message)")
            return link != nil && result.results.contains(where: \.ok)
        } catch {
            logger.warning("approval question not sent to \(others.joined(separator: ", ")): \(error.description)")
            return false
        }
    }

    static func text(_ detail: String, link: String?, until expires: Date) -> String {
        var text = detail
        if let link { text += "\n\nAnswer: \(link)" }
        text += "\n\nOpen until \(ApprovalPages.time(expires))."
        return text
    }

    static func outcomeText(_ record: ApprovalRecord?) -> String {
        guard let record else { return "Decided elsewhere." }
        switch record.state {
        case .answered:
            return "\(record.answerLabel ?? "Answered")\(record.answeredBy.map { " by \($0)" } ?? "")\(record.answeredVia.map { " (\($0))" } ?? "")"
        case .expired, .pending: return "No answer in time: decide in the terminal."
        case .withdrawn: return "Decided in the terminal."
        }
    }
}

