import Foundation

/// `MCP_PUSH_QUIET_HOURS=22:00-08:00`: below `critical`, messages in those hours are sent silently
/// where the service can (`MCP_PUSH_QUIET_MODE=silent`, the default) or held in the outbox until the
/// hours end (`hold`). Clock times in `MCP_PUSH_TZ`, else the machine's time zone.
public struct QuietHours: Sendable, Equatable {
    public static let variable = "MCP_PUSH_QUIET_HOURS"
    public static let modeVariable = "MCP_PUSH_QUIET_MODE"
    public static let zoneVariable = "MCP_PUSH_TZ"

    public enum Mode: String, Sendable, Equatable {
        case silent, hold
    }

    /// Seconds after midnight.
    let start: Int
    let end: Int
    public let mode: Mode
    let timeZone: TimeZone
    /// As configured, for results and logs.
    public let text: String

    init(start: Int, end: Int, mode: Mode, timeZone: TimeZone, text: String) {
        (self.start, self.end, self.mode, self.timeZone, self.text) = (start, end, mode, timeZone, text)
    }

    /// Nil when no quiet hours are set.
    public init?(configuration: Configuration) throws(ConfigurationError) {
        guard let text = configuration[Self.variable] else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
        guard parts.count == 2, let start = Self.seconds(parts[0]), let end = Self.seconds(parts[1]), start != end else {
            throw .invalid(Self.variable, "expected HH:MM-HH:MM in 24-hour time, e.g. 22:00-08:00, got \"\(text)\"")
        }
        var mode = Mode.silent
        if let name = configuration[Self.modeVariable] {
            guard let chosen = Mode(rawValue: name.lowercased()) else {
                throw .invalid(Self.modeVariable, "expected silent or hold, got \"\(name)\"")
            }
            mode = chosen
        }
        var zone = TimeZone.current
        if let name = configuration[Self.zoneVariable] {
            guard let named = TimeZone(identifier: name) else {
                throw .invalid(Self.zoneVariable, "unknown time zone \"\(name)\"; use a name such as Asia/Shanghai or Europe/Berlin")
            }
            zone = named
        }
        self.init(start: start, end: end, mode: mode, timeZone: zone, text: "\(parts[0])-\(parts[1])")
    }

    /// `HH:MM` or `HH:MM:SS`.
    static func seconds(_ text: String) -> Int? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(fields.count), fields.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
            let hours = Int(fields[0]), let minutes = Int(fields[1]), (0...23).contains(hours), (0...59).contains(minutes)
        else { return nil }
        let seconds = fields.count == 3 ? Int(fields[2]) : 0
        guard let seconds, (0...59).contains(seconds) else { return nil }
        return hours * 3600 + minutes * 60 + seconds
    }

    private func secondOfDay(_ date: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
        return (parts.hour ?? 0) * 3600 + (parts.minute ?? 0) * 60 + (parts.second ?? 0)
    }

    /// Whether `date` falls in the quiet hours (a range past midnight wraps).
    public func contains(_ date: Date) -> Bool {
        let now = secondOfDay(date)
        return start < end ? (start <= now && now < end) : (now >= start || now < end)
    }

    /// When the quiet hours that hold `date` end.
    public func end(after date: Date) -> Date {
        let now = secondOfDay(date)
        var wait = end - now
        if wait <= 0 { wait += 86_400 }
        return date.addingTimeInterval(Double(wait))
    }

    /// Whether a message of `level` at `date` is quieted.
    func applies(to level: Level, at date: Date) -> Bool {
        level < .critical && contains(date)
    }
}
