import Foundation
import Logging

/// Settings that shape every dispatch, read from the environment.
public struct DispatchSettings: Sendable {
    /// Per-channel time limit (`MCP_PUSH_TIMEOUT`, seconds).
    public var timeout: Duration = .seconds(15)
    /// Channels sending is restricted to (`MCP_PUSH_CHANNELS`); nil means all configured ones.
    public var allowedChannels: Set<ChannelID>?
    /// Titles that are never pushed (`SKIP_PUSH_TITLE`, one per line).
    public var skippedTitles: Set<String> = []
    /// Retries of transient failures (`MCP_PUSH_RETRIES`).
    public var retry = RetryPolicy()
    /// The most one call may take, retries included (`MCP_PUSH_DEADLINE`, seconds).
    public var deadline: Duration = .seconds(30)

    public init() {}

    public init(configuration: Configuration) throws(ConfigurationError) {
        if let timeout = try configuration.seconds("MCP_PUSH_TIMEOUT") { self.timeout = timeout }
        if let retries = try configuration.int("MCP_PUSH_RETRIES", in: 0...10) { retry.retries = retries }
        if let deadline = try configuration.seconds("MCP_PUSH_DEADLINE") { self.deadline = deadline }
        if let allowed = configuration.list("MCP_PUSH_CHANNELS") {
            let unknown = allowed.filter { ChannelCatalogue.descriptor(for: $0) == nil }
            guard unknown.isEmpty else {
                throw .invalid(
                    "MCP_PUSH_CHANNELS",
                    "unknown channel \(unknown.joined(separator: ", ")); known: \(ChannelCatalogue.ids.joined(separator: ", "))")
            }
            allowedChannels = Set(allowed)
        }
        if let titles = configuration.raw("SKIP_PUSH_TITLE") {
            skippedTitles = Set(
                titles.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
    }
}

/// Sends one message to many channels at once and gathers a truthful result.
///
/// Every channel runs in its own child task with its own time limit, so the call
/// takes as long as the slowest channel, capped at the timeout.
public struct Dispatcher: Sendable {
    public let setup: ChannelSetup
    public let settings: DispatchSettings
    let http: HTTPService
    let redactor: Redactor
    let logger: Logger

    public init(setup: ChannelSetup, settings: DispatchSettings, http: HTTPService, redactor: Redactor, logger: Logger) {
        self.setup = setup
        self.settings = settings
        self.http = http
        self.redactor = redactor
        self.logger = logger
    }

    /// Delivers `message` to the configured channels, or to `requested` ones only.
    /// Callers validate that requested ids exist (``NotificationInput``).
    public func dispatch(_ message: Message, to requested: [ChannelID]? = nil) async -> DispatchResult {
        if settings.skippedTitles.contains(message.title.trimmingCharacters(in: .whitespaces)) {
            return DispatchResult(status: .skipped, message: "Not pushed: the title is listed in SKIP_PUSH_TITLE.")
        }

        var targets: [any Channel] = []
        var unavailable: [ChannelResult] = []
        var misconfigured: [String] = []
        for entry in setup.entries {
            let id = entry.descriptor.id
            if let requested, !requested.contains(id) { continue }
            if let allowed = settings.allowedChannels, !allowed.contains(id) {
                if requested != nil {
                    unavailable.append(.unavailable(id, "not sent: MCP_PUSH_CHANNELS does not include \(id)"))
                }
                continue
            }
            switch entry.state {
            case .configured(let channel):
                targets.append(channel)
            case .misconfigured(let problem):
                // Asked for by name, it is a failure; otherwise a note, so one half-set channel does not fail every call.
                if requested != nil {
                    unavailable.append(.unavailable(id, "misconfigured: \(problem)"))
                } else {
                    misconfigured.append("\(id) (\(problem))")
                }
            case .off:
                if requested != nil {
                    let required = entry.descriptor.variables.filter(\.isRequired).map(\.name)
                    unavailable.append(.unavailable(id, "not configured: set \(required.joined(separator: " and "))"))
                }
            }
        }

        let note = misconfigured.isEmpty
            ? "" : " Not sent to misconfigured channels: \(misconfigured.joined(separator: "; ")); see `mcp-push channels`."
        if targets.isEmpty && unavailable.isEmpty {
            return DispatchResult(status: .error, message: Self.noChannelMessage(settings: settings) + note)
        }

        let delivered = await deliver(message, to: targets)
        let order = Dictionary(uniqueKeysWithValues: setup.entries.enumerated().map { ($1.descriptor.id, $0) })
        let results = (delivered + unavailable).sorted { order[$0.channel, default: 0] < order[$1.channel, default: 0] }
        var summary = Self.summarize(results)
        summary.message += note
        return summary
    }

    private func deliver(_ message: Message, to channels: [any Channel]) async -> [ChannelResult] {
        let context = DeliveryContext(http: http, timeout: settings.timeout, redactor: redactor, logger: logger)
        let retrying = RetryingDelivery(policy: settings.retry, attemptTimeout: settings.timeout, context: context)
        let clock = ContinuousClock()
        let deadline = clock.now + settings.deadline
        return await withTaskGroup(of: ChannelResult.self) { group in
            for channel in channels {
                group.addTask {
                    let start = clock.now
                    let outcome = await retrying.deliver(message, via: channel, deadline: deadline)
                    let result = ChannelResult(
                        channel: channel.id, ok: outcome.delivery.ok, statusCode: outcome.delivery.statusCode,
                        error: redactor.redact(outcome.delivery.error), durationMilliseconds: (clock.now - start).milliseconds,
                        attempts: outcome.attempts)
                    log(result)
                    return result
                }
            }
            var results: [ChannelResult] = []
            for await result in group { results.append(result) }
            return results
        }
    }

    private func log(_ result: ChannelResult) {
        if result.ok {
            logger.info("delivered", metadata: ["channel": "\(result.channel)", "ms": "\(result.durationMilliseconds)"])
        } else {
            logger.warning(
                "delivery failed",
                metadata: ["channel": "\(result.channel)", "ms": "\(result.durationMilliseconds)", "error": "\(result.error ?? "")"])
        }
    }

    static func summarize(_ results: [ChannelResult]) -> DispatchResult {
        let succeeded = results.filter(\.ok)
        let failed = results.filter { !$0.ok }
        let status: DispatchResult.Status
        let message: String
        if failed.isEmpty {
            status = .success
            message = "Delivered to \(succeeded.count) channel\(succeeded.count == 1 ? "" : "s"): \(succeeded.map(\.channel).joined(separator: ", "))."
        } else if succeeded.isEmpty {
            status = .error
            message = failed.count == 1
                ? "Not delivered: \(failed[0].channel) failed."
                : "Not delivered: all \(failed.count) channels failed (\(failed.map(\.channel).joined(separator: ", ")))."
        } else {
            status = .partialSuccess
            message = "Delivered to \(succeeded.count) of \(results.count) channels; failed: \(failed.map(\.channel).joined(separator: ", "))."
        }
        return DispatchResult(status: status, message: message, results: results)
    }

    static func noChannelMessage(settings: DispatchSettings) -> String {
        var text = "No notification channel is configured. Set one channel's variables in the environment of this server or in ~/.config/mcp-push/config.sh, for example `export BARK_PUSH=<device key>` or `export NTFY_TOPIC=<topic>`; run `mcp-push channels` to see every channel and what it needs."
        if let allowed = settings.allowedChannels {
            text += " (MCP_PUSH_CHANNELS limits sending to: \(allowed.sorted().joined(separator: ", ")).)"
        }
        return text
    }
}

extension ChannelResult {
    static func unavailable(_ id: ChannelID, _ reason: String) -> ChannelResult {
        ChannelResult(channel: id, ok: false, statusCode: nil, error: reason, durationMilliseconds: 0, attempts: 0)
    }
}
