import Approvals
import ArgumentParser
import Foundation
import JSONText
import PushCore

/// `mcp-push ask`: `notify_ask` for scripts.
struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask a question on your phone and wait for the answer.",
        discussion: """
            Pushes the question with the options as buttons on every channel that can answer (Telegram, ntfy, \
            and the web page of `mcp-push serve --transport http` when MCP_PUSH_PUBLIC_URL is set) and prints \
            the chosen option. Exit status: 0 answered, 3 nobody answered in time, 4 withdrawn (interrupted), \
            2 the question could not be asked. docs/APPROVALS.md explains who can answer.

            Examples:
              mcp-push ask "Deploy to production?" --option Deploy --option Wait
              answer=$(mcp-push ask "Disk 95% full: clean the cache?" --timeout 600) && [ "$answer" = Yes ] && make clean
              mcp-push ask "Which model?" -o small -o medium -o large --json
            """)

    @Argument(help: "The question.")
    var question: String

    @Option(name: .shortAndLong, help: "A possible answer; 2 to 4 of them. (default: Yes and No)")
    var option: [String] = []

    @Option(help: "Seconds to wait for the answer, 10 to 3600.")
    var timeout = 300

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    @OptionGroup var options: CommandOptions

    func validate() throws {
        let choices = option.isEmpty ? ["Yes", "No"] : option
        guard (2...4).contains(choices.count) else { throw ValidationError("give 2 to 4 --option values") }
        guard Set(choices).count == choices.count else { throw ValidationError("--option values must differ") }
        guard choices.allSatisfy({ !$0.trimmingWhitespace().isEmpty && $0.count <= 40 }) else {
            throw ValidationError("each --option must be 1 to 40 characters")
        }
        guard (10...3600).contains(timeout) else { throw ValidationError("--timeout must be from 10 to 3600 seconds") }
        guard !question.trimmingWhitespace().isEmpty, question.count <= 2000 else {
            throw ValidationError("the question must be 1 to 2000 characters")
        }
    }

    func run() async throws {
        let runtime = try Runtime.start(options)
        let approver: Approver
        do {
            approver = try Approver(configuration: runtime.configuration, notifier: runtime.notifier, logger: runtime.logger)
        } catch {
            Output.writeError("mcp-push: configuration error: \(runtime.notifier.redact(error.description))")
            throw ExitCode(2)
        }
        let choices = option.isEmpty ? ["Yes", "No"] : option
        let firstLine = question.split(whereSeparator: \.isNewline).first.map(String.init) ?? question
        let store = await runtime.notifier.store
        let stop = WithdrawOnStop(store: store, exitStatus: 4)
        let outcome = await approver.ask(
            ApprovalQuestion(kind: .question, title: "❓ " + String(firstLine.prefix(80)), detail: question, options: choices, timeout: .seconds(timeout)),
            created: stop.asked)
        stop.cancel()
        await runtime.notifier.shutdown()
        let report: OrderedJSON
        let status: ExitCode
        switch outcome {
        case .answered(let answer):
            report = [
                "status": "answered", "answer": .string(answer.label), "answer_index": .int(answer.choice),
                "answered_by": .string(answer.by), "channel": .string(answer.via),
            ]
            status = .success
            if !json { Output.write(answer.label) }
        case .timedOut:
            report = ["status": "timeout"]
            status = ExitCode(3)
            if !json { Output.writeError("mcp-push: nobody answered within \(timeout) s") }
        case .withdrawn:
            report = ["status": "withdrawn"]
            status = ExitCode(4)
        case .unavailable(let reason):
            report = ["status": "unavailable", "message": .string(reason)]
            status = ExitCode(2)
            Output.writeError("mcp-push: the question could not be asked: \(reason)")
        }
        if json { Output.write(report.text) }
        if status != .success { throw status }
    }
}
