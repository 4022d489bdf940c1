import Foundation
import Logging
@testable import PushCore
import Testing

/// Builds a channel from variables, failing the test if the variables do not configure it.
func makeChannel<C: PushCore.Channel>(_ type: C.Type, _ variables: [String: String]) throws -> C {
    try #require(try C(configuration: Configuration(variables)))
}

/// Runs `body` with a delivery context whose HTTP client is shut down afterwards.
func withContext<T: Sendable>(
    timeout: Duration = .seconds(5), redactor: Redactor = Redactor(),
    _ body: @Sendable (DeliveryContext) async throws -> T
) async throws -> T {
    let http = HTTPService()
    let context = DeliveryContext(http: http, timeout: timeout, redactor: redactor, logger: Logger(label: "test"))
    do {
        let result = try await body(context)
        await http.shutdown()
        return result
    } catch {
        await http.shutdown()
        throw error
    }
}

/// Sends one message through `channel` against a fake service and returns the delivery
/// and the requests the service received.
func deliver<C: PushCore.Channel>(
    _ channel: C, _ message: Message = Message(title: "Build finished", body: "All 42 tests passed.\nSecond line & more")
) async throws -> Delivery {
    try await withContext { context in try await channel.send(message, context: context) }
}
