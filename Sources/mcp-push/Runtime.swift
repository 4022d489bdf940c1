import ArgumentParser
import Foundation
import Logging
import PushCore

/// What every command needs: configuration, redacting stderr logging, and the notifier.
struct Runtime {
    let configuration: Configuration
    let notifier: Notifier
    let logger: Logger

    /// Loads the configuration and sets up logging; a configuration mistake is printed
    /// to stderr and ends the command with exit status 2.
    static func start(defaultLogLevel: Logger.Level = .warning) throws -> Runtime {
        let redactor = Redactor()
        let environment = ProcessInfo.processInfo.environment
        let level = environment["MCP_PUSH_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? defaultLogLevel
        LoggingSystem.bootstrap { label in
            var handler = RedactingLogHandler(StreamLogHandler.standardError(label: label), redactor: redactor)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mcp-push")
        do {
            let configuration = try Configuration.load(environment: environment)
            let notifier = try Notifier(configuration: configuration, redactor: redactor, logger: logger)
            return Runtime(configuration: configuration, notifier: notifier, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("mcp-push: configuration error: \(redactor.redact(error.description))\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// Exit status of `send`, `event` and `test`: 0 success (or skipped), 1 partial success or queued, 2 error.
extension DispatchResult {
    var exitCode: ExitCode {
        switch status {
        case .success, .skipped: return .success
        case .partialSuccess, .queued: return ExitCode(1)
        case .error: return ExitCode(2)
        }
    }
}
