import Foundation
import JSONText
import Logging
import PushCore

/// One JSON object a line on stderr (`MCP_PUSH_LOG_FORMAT=json`), for log shippers: `time`, `level`,
/// `label`, `message`, then the metadata's keys in order. Secrets are masked before it by
/// ``RedactingLogHandler``, as for the text format.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        var members: [(String, OrderedJSON)] = [
            ("time", .string(RFC3339.format(Date()))), ("level", .string(event.level.rawValue)), ("label", .string(label)),
            ("message", .string(event.message.description)),
        ]
        let reserved: Set<String> = ["time", "level", "label", "message"]
        for key in merged.keys.sorted() where !reserved.contains(key) { members.append((key, .string(merged[key]!.description))) }
        var output = PatientStandardError()
        output.write(OrderedJSON.object(members).text + "\n")
    }
}
