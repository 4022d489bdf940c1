import Foundation
import MCPProtocol
import PushCore

/// Read-only views of the store for agents: channels, runs, one run, recent deliveries.
enum PushResources {
    static let channelsURI = "mcp-push://channels"
    static let runsURI = "mcp-push://runs"
    static let historyURI = "mcp-push://history"
    static let runPrefix = "mcp-push://runs/"
    static let listLimit = 50

    static let fixed: [Resource] = [
        Resource(
            name: "channels", uri: channelsURI, title: "Notification channels",
            description: "Every supported channel: configured, misconfigured (and why) or off; its last success, last error and queued deliveries.",
            mimeType: "application/json"),
        Resource(
            name: "runs", uri: runsURI, title: "Recent runs",
            description: "The \(listLimit) most recently active runs reported with notify_event: first and last event, start, finish, outcome, last progress.",
            mimeType: "application/json"),
        Resource(
            name: "history", uri: historyURI, title: "Recent deliveries",
            description: "The \(listLimit) most recent per-channel deliveries: ok, attempts, duration, error.",
            mimeType: "application/json"),
    ]

    static let templates: [ResourceTemplate] = [
        ResourceTemplate(
            uriTemplate: "mcp-push://runs/{run_id}", name: "run", title: "One run",
            description: "One run's events and deliveries, with its duration once finished.",
            mimeType: "application/json")
    ]

    static func read(_ uri: String, notifier: Notifier) async throws(MCPError) -> [ResourceContents] {
        let text: String
        do {
            switch uri {
            case channelsURI:
                text = Reports.json(await notifier.channelStatuses())
            case runsURI:
                text = Reports.json(try await notifier.recentRuns(limit: listLimit))
            case historyURI:
                text = Reports.json(try await notifier.recentDeliveries(limit: listLimit))
            case _ where uri.hasPrefix(runPrefix):
                let encoded = String(uri.dropFirst(runPrefix.count))
                let runID = encoded.removingPercentEncoding ?? encoded
                guard !runID.isEmpty, let detail = try await notifier.runDetail(runID) else {
                    throw MCPError.resourceNotFound("Resource not found: no run '\(runID)' in the history (see \(runsURI)).")
                }
                text = Reports.json(detail)
            default:
                throw MCPError.resourceNotFound(
                    "Resource not found: \(uri). Available: \(fixed.map(\.uri).joined(separator: ", ")), mcp-push://runs/{run_id}.")
            }
        } catch let error as MCPError {
            throw error
        } catch {
            throw MCPError.internalError("history unavailable: \(notifier.redact(String(describing: error)))")
        }
        return [ResourceContents(uri: uri, text: text, mimeType: "application/json")]
    }
}
