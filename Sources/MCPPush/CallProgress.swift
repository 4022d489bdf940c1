import Foundation
import PushCore
import Synchronization

/// Progress notifications for one `tools/call` whose caller sent a progress token: one as
/// each channel finishes, and a heartbeat every few seconds while some still wait, so that a
/// client's request timeout does not fire while a slow channel is retried.
///
/// Progress only ever grows (the specification requires it): it counts finished channels,
/// and a heartbeat moves it halfway to the next whole number.
struct CallProgress: Sendable {
    typealias Send = @Sendable (_ progress: Double, _ total: Double?, _ message: String) async -> Void

    let send: Send
    var heartbeat: Duration = .seconds(3)

    private enum Event: Sendable {
        case finished(ChannelResult, waiting: [ChannelID])
        case tick
    }

    /// Runs `body` with a progress callback for the core, reporting until it returns.
    /// `expected`: the channels the call goes to, named while none has finished yet.
    func run<T: Sendable, Failure: Error>(
        expecting expected: [ChannelID], _ body: (@escaping Notifier.Progress) async throws(Failure) -> T
    ) async throws(Failure) -> T {
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                if Task.isCancelled { break }
                continuation.yield(.tick)
            }
        }
        let reporter = Task { [send] in
            let clock = ContinuousClock()
            let started = clock.now
            var finished = 0
            var total: Int?
            var waiting = expected
            var progress = 0.0
            for await event in events {
                let message: String
                switch event {
                case .finished(let result, let stillWaiting):
                    finished += 1
                    total = finished + stillWaiting.count
                    waiting = stillWaiting
                    progress = Double(finished)
                    let state = result.ok ? "delivered" : result.queued ? "queued" : "failed"
                    message = "\(result.channel) \(state)" + (waiting.isEmpty ? "" : "; waiting for \(waiting.joined(separator: ", "))")
                case .tick:
                    progress += (Double(finished + 1) - progress) / 2
                    let elapsed = (clock.now - started).roundedSecondsText
                    message = waiting.isEmpty ? "sending (\(elapsed))" : "waiting for \(waiting.joined(separator: ", ")) (\(elapsed))"
                }
                await send(progress, total.map(Double.init), message)
            }
        }
        defer {
            ticker.cancel()
            continuation.finish()
        }
        let value = try await body { result, waiting in continuation.yield(.finished(result, waiting: waiting)) }
        ticker.cancel()
        continuation.finish()
        // Progress notifications go out before the result they lead up to.
        await reporter.value
        return value
    }
}
