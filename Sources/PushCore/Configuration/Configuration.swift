import Foundation

/// Every setting mcp-push reads: the process environment over an optional `config.sh`.
///
/// Empty values count as unset, so an example file full of `export X=""` lines
/// never disables a default or half-configures a channel.
public struct Configuration: Sendable {
    private var values: [String: String]
    /// Where the file layer came from, if one was read.
    public private(set) var sourceFile: String?

    public init(_ values: [String: String], sourceFile: String? = nil) {
        self.values = values.filter { !$0.value.isEmpty }
        self.sourceFile = sourceFile
    }

    /// Loads `config.sh` (from `MCP_PUSH_CONFIG`, else `~/.config/mcp-push/config.sh`,
    /// else `./config.sh`) and lays the environment over it. Nothing is executed:
    /// the file is parsed, never sourced.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(ConfigurationError) -> Configuration {
        var merged: [String: String] = [:]
        var source: String?
        if let path = configFilePath(environment: environment, currentDirectory: currentDirectory) {
            merged = try ConfigFile.read(path: path)
            source = path
        }
        for (key, value) in environment where !value.isEmpty {
            merged[key] = value
        }
        return Configuration(merged, sourceFile: source)
    }

    static func configFilePath(environment: [String: String], currentDirectory: String) -> String? {
        if let explicit = environment["MCP_PUSH_CONFIG"], !explicit.isEmpty {
            // An explicit path that does not exist is a mistake worth reporting.
            return explicit
        }
        var candidates: [String] = []
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            candidates.append("\(xdg)/mcp-push/config.sh")
        } else if let home = environment["HOME"], !home.isEmpty {
            candidates.append("\(home)/.config/mcp-push/config.sh")
        }
        candidates.append("\(currentDirectory)/config.sh")
        return candidates.first { FileManager.default.isReadableFile(atPath: $0) }
    }

    /// The value of `name`, trimmed of surrounding whitespace; nil when unset or blank.
    public subscript(name: String) -> String? {
        guard let raw = values[name] else { return nil }
        let trimmed = raw.trimmingWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The value exactly as written (for multi-line values whose whitespace matters).
    public func raw(_ name: String) -> String? { values[name] }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    public func with(_ name: String, _ value: String?) -> Configuration {
        var copy = self
        copy.values[name] = value
        return copy
    }

    /// A required value, or an error naming the missing variable.
    public func require(_ name: String) throws(ConfigurationError) -> String {
        guard let value = self[name] else { throw .missing([name]) }
        return value
    }

    /// The values of variables that only work together: nil when none is set, all of them
    /// when all are, and an error naming the missing ones otherwise.
    public func group(_ names: String...) throws(ConfigurationError) -> [String]? {
        let values = names.map { self[$0] }
        guard values.contains(where: { $0 != nil }) else { return nil }
        let missing = zip(names, values).filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty else { throw .missing(missing) }
        return values.compactMap { $0 }
    }

    /// Boolean switches accept true/false, 1/0, yes/no, on/off.
    public func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let value = self[name]?.lowercased() else { return nil }
        switch value {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw .invalid(name, "expected true or false, got \"\(value)\"")
        }
    }

    public func int(_ name: String, in range: ClosedRange<Int>? = nil) throws(ConfigurationError) -> Int? {
        guard let value = self[name] else { return nil }
        guard let number = Int(value) else { throw .invalid(name, "expected a whole number, got \"\(value)\"") }
        if let range, !range.contains(number) {
            throw .invalid(name, "expected a number from \(range.lowerBound) to \(range.upperBound), got \(number)")
        }
        return number
    }

    /// Seconds as a decimal number (`15`, `2.5`) within `range`: every duration setting has a
    /// bound, so `1e300` is a configuration error naming the variable, not an overflow later.
    public func seconds(_ name: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Duration? {
        guard let value = self[name] else { return nil }
        guard let number = Double(value), number.isFinite, number > 0 else {
            throw .invalid(name, "expected a positive number of seconds, got \"\(value)\"")
        }
        guard range.contains(number) else {
            throw .invalid(name, "expected a number of seconds from \(Self.number(range.lowerBound)) to \(Self.number(range.upperBound)), got \"\(value)\"")
        }
        return .milliseconds(Int64((number * 1000).rounded()))
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A comma-separated list, blanks dropped.
    public func list(_ name: String, separators: [Character] = [","]) -> [String]? {
        guard let value = self[name] else { return nil }
        return value.split(whereSeparator: { separators.contains($0) })
            .map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty }
    }

    /// The origin for a channel's service: `MCP_PUSH_<ID>_BASE_URL` if set, else the default.
    /// The trailing slash is dropped so callers can append the service's real path.
    /// The channel's service: its base-URL variable when set (checked), else the given default,
    /// else the descriptor's own. Without either, the variable is missing.
    public func baseURL(for descriptor: ChannelDescriptor, default fallback: String? = nil) throws(ConfigurationError) -> String {
        if let override = self[descriptor.baseURLVariable] {
            return try Self.validatedURL(override, variable: descriptor.baseURLVariable).trimmingSuffix("/")
        }
        guard let fallback = fallback ?? descriptor.defaultBaseURL else { throw .missing([descriptor.baseURLVariable]) }
        return fallback.trimmingSuffix("/")
    }

    /// Checks that `value` is an absolute http(s) URL, so a typo fails at configuration time.
    public static func validatedURL(_ value: String, variable: String) throws(ConfigurationError) -> String {
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else {
            throw .invalid(variable, "expected an http:// or https:// URL, got \"\(Redactor.maskValue(value))\"")
        }
        return value
    }
}

/// A channel whose variables are only partly set, or set to something unusable.
public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing([String])
    case invalid(String, String)
    case unreadableFile(String, String)

    public var description: String {
        switch self {
        case .missing(let names):
            return "missing \(names.joined(separator: ", "))"
        case .invalid(let name, let reason):
            return "\(name): \(reason)"
        case .unreadableFile(let path, let reason):
            return "cannot read config file \(path): \(reason)"
        }
    }
}

extension String {
    package func trimmingSuffix(_ suffix: String) -> String {
        var result = self
        while result.hasSuffix(suffix) { result.removeLast(suffix.count) }
        return result
    }
}
