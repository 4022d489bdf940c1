import Foundation
import Logging

/// What a channel may use while sending: the shared HTTP client, the time it has,
/// the redactor (to register secrets it learns, such as access tokens) and a logger.
public struct DeliveryContext: Sendable {
    public let http: HTTPService
    /// The time this attempt has; HTTP requests are given it as their deadline.
    public let timeout: Duration
    public let redactor: Redactor
    public let logger: Logger

    public init(http: HTTPService, timeout: Duration, redactor: Redactor, logger: Logger) {
        self.http = http
        self.timeout = timeout
        self.redactor = redactor
        self.logger = logger
    }

    /// The dispatcher cancels the attempt at `timeout`; the HTTP deadline is only a backstop
    /// a little later, so that a timeout is always reported the same way.
    public func perform(_ request: HTTPRequestSpec, proxy: HTTPProxy? = nil) async throws -> HTTPAnswer {
        try await http.perform(request, timeout: timeout + .seconds(1), proxy: proxy)
    }
}
