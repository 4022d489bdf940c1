@testable import PushCore
import Testing

/// The limit every delivery attempt runs under.
@Suite struct TimeoutTests {
    struct ServiceFailure: Error, Equatable {}

    @Test func aQuickOperationReturnsItsValue() async throws {
        let value = try await withTimeout(.seconds(5)) { 42 }
        #expect(value == 42)
    }

    @Test func aHangingOperationIsCancelledAtTheLimit() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: TimeoutError.self) {
            try await withTimeout(.milliseconds(200)) {
                try await Task.sleep(for: .seconds(30))
                return 0
            }
        }
        let elapsed = clock.now - start
        #expect(elapsed >= .milliseconds(190) && elapsed < .seconds(3), "took \(elapsed)")
    }

    @Test func theOperationsOwnErrorIsNotCalledATimeout() async throws {
        await #expect(throws: ServiceFailure.self) {
            try await withTimeout(.seconds(5)) { () async throws -> Int in throw ServiceFailure() }
        }
    }

    @Test func cancellingTheCallerCancelsTheOperation() async throws {
        let call = Task {
            try await withTimeout(.seconds(30)) {
                try await Task.sleep(for: .seconds(30))
                return 0
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        call.cancel()
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: CancellationError.self) { try await call.value }
        #expect(clock.now - start < .seconds(3))
    }
}
