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
    /// Every command shares the on-disk store (history, outbox, rate-limit slots) with the
    /// other mcp-push processes; `worksOutbox` is for the long-running server.
    /// `adjusting` changes the loaded configuration before anything is built from it (the hooks cap
    /// the deadline to their own).
    static func start(
        defaultLogLevel: Logger.Level = .warning, worksOutbox: Bool = false,
        adjusting adjust: (Configuration) throws(ConfigurationError) -> Configuration = { $0 }
    ) throws -> Runtime {
        let redactor = Redactor()
        let environment = ProcessInfo.processInfo.environment
        let level = environment["MCP_PUSH_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? defaultLogLevel
        let format = environment["MCP_PUSH_LOG_FORMAT"]?.lowercased() ?? "text"
        guard format == "text" || format == "json" else {
            Output.writeError("mcp-push: configuration error: MCP_PUSH_LOG_FORMAT: expected text or json, got \"\(format)\"")
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap { label in
            let output: any LogHandler =
                format == "json" ? JSONLogHandler(label: label) : StreamLogHandler(label: label, stream: PatientStandardError())
            var handler = RedactingLogHandler(output, redactor: redactor)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mcp-push")
        do {
            let configuration = try adjust(try Configuration.load(environment: environment))
            if let warning = ConfigFileExposure.warning(for: configuration, environment: environment) {
                Output.writeError("mcp-push: warning: \(warning)")
            }
            let notifier = try Notifier(
                configuration: configuration, redactor: redactor, logger: logger, store: .shared, worksOutbox: worksOutbox)
            return Runtime(configuration: configuration, notifier: notifier, logger: logger)
        } catch {
            Output.writeError("mcp-push: configuration error: \(redactor.redact(error.description))")
            throw ExitCode(2)
        }
    }
}

extension Runtime {
    /// A command's start: quiet logs unless `--verbose` (its output already says what failed).
    static func start(_ options: CommandOptions) throws -> Runtime {
        try start(defaultLogLevel: options.logLevel)
    }

    /// Runs a sending command: while it sends, deliveries an earlier process queued and
    /// that are due go out too (any mcp-push start works the outbox). What is left waiting
    /// that this configuration can send is handed to a background flusher, so "queued for
    /// retry in the background" is true; then connections close.
    func sending<T, Failure: Error>(_ body: (Notifier) async throws(Failure) -> T) async throws(Failure) -> T {
        notifier.prepareToSend()
        let backlog = Task { [notifier] in await notifier.workOutbox() }
        let outcome: Result<T, Failure>
        do throws(Failure) {
            outcome = .success(try await body(notifier))
        } catch {
            outcome = .failure(error)
        }
        let pass = await backlog.value
        if pass.touched > 0 {
            logger.info("outbox: \(pass.delivered) delivered, \(pass.rescheduled) rescheduled, \(pass.failed) failed, \(pass.expired) expired")
        }
        await handOverOutbox()
        await notifier.shutdown()
        return try outcome.get()
    }

    /// Starts the background flusher when something this configuration can send still waits:
    /// what `sent` just handed over (known without asking the store), or anything due there.
    func handOverOutbox(after sent: DispatchResult? = nil) async {
        if sent?.results.contains(where: \.handedOver) != true {
            guard await notifier.hasSendableOutboxItems() else { return }
        }
        if BackgroundFlusher.spawn() {
            await notifier.handsOverItsState()
        } else {
            Output.writeError("mcp-push: could not start the background retry; queued deliveries go out with the next mcp-push command or server")
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
