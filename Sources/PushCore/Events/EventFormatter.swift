import Foundation

/// Turns a run event into a notification that reads well on a phone lock screen.
public enum EventFormatter {
    /// `lastProgress` (from the run's updates) is shown when the event itself carries none.
    public static func message(for event: RunEvent, elapsed: Duration?, lastProgress: Double? = nil) -> Message {
        let title: String
        switch event.kind {
        case .start: title = "▶️ \(event.runID) started"
        case .update: title = "🔄 \(event.runID) update"
        case .end: title = "✅ \(event.runID) finished"
        case .error: title = "❌ \(event.runID) failed"
        }
        var lines = [event.message]
        var data = event.data
        // The artifact's address becomes the message's link (its own field, or the end of the text): not twice.
        if let url = event.effectiveURL, data["artifact_url"]?.string == url { data["artifact_url"] = nil }
        if data["progress"] == nil, event.kind.isFinal, let lastProgress { data["progress"] = .double(lastProgress) }
        // In a Markdown message, the details are text all the same.
        let details = detailLines(data).map { event.format == .markdown ? Markdown.escaped($0) : $0 }
        if !details.isEmpty {
            lines.append("")
            lines.append(contentsOf: details)
        }
        if let elapsed {
            if details.isEmpty { lines.append("") }
            lines.append("Took: \(durationText(elapsed))")
        }
        return Message(
            title: title, body: lines.joined(separator: "\n"), url: event.effectiveURL, level: event.effectiveLevel, format: event.format)
    }

    /// Known keys first in a fixed order, then the rest alphabetically.
    static func detailLines(_ data: [String: JSONValue]) -> [String] {
        var lines: [String] = []
        if let progress = data["progress"] {
            if let fraction = progress.double, (0...1).contains(fraction) {
                lines.append("Progress: \(Int((fraction * 100).rounded()))%")
            } else {
                lines.append("Progress: \(progress.text)")
            }
        }
        if let step = data["step"] { lines.append("Step: \(step.text)") }
        if let code = data["error_code"] { lines.append("Error code: \(code.text)") }
        if let url = data["artifact_url"] { lines.append("Link: \(url.text)") }
        let known: Set<String> = ["progress", "step", "error_code", "artifact_url"]
        for key in data.keys.sorted() where !known.contains(key) {
            lines.append("\(key): \(data[key]!.text)")
        }
        return lines
    }

    /// `45s`, `12m 05s`, `2h 03m`.
    public static func durationText(_ duration: Duration) -> String {
        let total = max(0, Int(duration.components.seconds))
        let hours = total / 3600, minutes = (total % 3600) / 60, seconds = total % 60
        if hours > 0 { return "\(hours)h \(String(format: "%02d", minutes))m" }
        if minutes > 0 { return "\(minutes)m \(String(format: "%02d", seconds))s" }
        return "\(seconds)s"
    }
}
