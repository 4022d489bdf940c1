import Foundation
import Logging

/// The core's front door, shared by the MCP tools and the CLI: validated input in,
/// a ``DispatchResult`` out.
public final class Notifier: Sendable {
    public let configuration: Configuration
    public let setup: ChannelSetup
    public let dispatcher: Dispatcher
    public let eventPolicy: EventPolicy
    public let redactor: Redactor
    let http: HTTPService
    let runs = RunTracker()

    /// Builds every channel from `configuration`. Throws only for global settings that
    /// are unusable (`MCP_PUSH_TIMEOUT=abc`); a bad channel is reported per channel.
    public init(configuration: Configuration, redactor: Redactor = Redactor(), logger: Logger = Logger(label: "mcp-push")) throws(ConfigurationError) {
        self.configuration = configuration
        self.redactor = redactor
        let setup = ChannelSetup(configuration: configuration)
        setup.secrets.forEach(redactor.register)
        self.setup = setup
        let http = HTTPService()
        self.http = http
        self.eventPolicy = try EventPolicy(configuration: configuration)
        self.dispatcher = Dispatcher(
            setup: setup, settings: try DispatchSettings(configuration: configuration),
            http: http, redactor: redactor, logger: logger)
    }

    /// `notify_send`: one message to the configured (or the named) channels.
    public func send(title: String, content: String, channels: [ChannelID]? = nil) async throws(InputError) -> DispatchResult {
        let title = try InputError.requireText(title, field: "title")
        let content = try InputError.requireText(content, field: "content")
        let channels = try InputError.validateChannels(channels)
        return await dispatcher.dispatch(Message(title: title, body: content), to: channels)
    }

    /// `notify_event`: records the event, then pushes it if the event policy says so.
    public func event(_ event: RunEvent, channels: [ChannelID]? = nil) async throws(InputError) -> DispatchResult {
        _ = try InputError.requireText(event.runID, field: "run_id")
        _ = try InputError.requireText(event.message, field: "message")
        let channels = try InputError.validateChannels(channels)
        let elapsed = await runs.record(event)
        let summary = EventSummary(runID: event.runID, event: event.kind.rawValue, timestamp: event.timestampText)
        guard eventPolicy.pushed.contains(event.kind) else {
            let pushed = RunEvent.Kind.allCases.filter(eventPolicy.pushed.contains).map(\.rawValue).joined(separator: ", ")
            return DispatchResult(
                status: .skipped,
                message: "Recorded, not pushed: \(event.kind.rawValue) events are not pushed (pushed: \(pushed.isEmpty ? "none" : pushed)). Set \(EventPolicy.variable)=all (or a comma list such as start,end,error) to push them.",
                event: summary)
        }
        var result = await dispatcher.dispatch(EventFormatter.message(for: event, elapsed: elapsed), to: channels)
        result.event = summary
        return result
    }

    /// Closes network connections; call once before the process exits.
    public func shutdown() async {
        await http.shutdown()
    }
}

/// Input a caller got wrong: the message names the field and what is allowed.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let description: String

    public init(field: String, _ description: String) {
        self.field = field
        self.description = description
    }

    static func requireText(_ value: String, field: String) throws(InputError) -> String {
        guard !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw InputError(field: field, "'\(field)' must not be empty")
        }
        return value
    }

    static func validateChannels(_ channels: [ChannelID]?) throws(InputError) -> [ChannelID]? {
        guard let channels else { return nil }
        guard !channels.isEmpty else {
            throw InputError(field: "channels", "'channels' must name at least one channel, or be left out to use every configured channel")
        }
        let unknown = channels.filter { ChannelCatalogue.descriptor(for: $0) == nil }
        guard unknown.isEmpty else {
            throw InputError(
                field: "channels",
                "unknown channel \(unknown.map { "'\($0)'" }.joined(separator: ", ")) in 'channels'; allowed: \(ChannelCatalogue.ids.joined(separator: ", "))")
        }
        return channels
    }
}
