import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PushCore
import Synchronization

/// A request as a fake service received it.
public struct RecordedRequest: Sendable {
    public let method: String
    public let path: String
    /// The raw query string, as sent.
    public let rawQuery: String
    /// Header names lower-cased.
    public let headers: [String: String]
    public let body: Data
    public let receivedAt: ContinuousClock.Instant

    /// Query parameters decoded the way web frameworks do: `+` is a space.
    public var query: [String: String] { FormDecoding.decode(rawQuery) }
    public var json: JSONValue? { JSONValue.decode(body) }
    public var form: [String: String] { FormDecoding.decode(String(decoding: body, as: UTF8.self)) }
    public var text: String { String(decoding: body, as: UTF8.self) }
    public var contentType: String { headers["content-type"] ?? "" }
}

public struct FakeResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: String

    public init(status: Int, headers: [(String, String)], body: String) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ value: JSONValue, status: Int = 200, headers: [(String, String)] = []) -> FakeResponse {
        let text = String(decoding: (try? value.encoded()) ?? Data(), as: UTF8.self)
        return FakeResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers, body: text)
    }

    /// A literal body, byte for byte as the service sends it.
    public static func raw(_ body: String, status: Int = 200, contentType: String = "application/json; charset=utf-8") -> FakeResponse {
        FakeResponse(status: status, headers: [("Content-Type", contentType)], body: body)
    }

    public static func text(_ body: String, status: Int = 200) -> FakeResponse {
        raw(body, status: status, contentType: "text/plain; charset=utf-8")
    }
}

public enum FormDecoding {
    public static func decode(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = unescape(String(parts[0]))
            let value = parts.count > 1 ? unescape(String(parts[1])) : ""
            result[key] = value
        }
        return result
    }

    public static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }
}

/// A stand-in for a push service on 127.0.0.1: records every request and answers
/// through `handler`, which checks the request the way the real service does.
public final class FakeService: Sendable {
    public typealias Handler = @Sendable (RecordedRequest) async throws -> FakeResponse

    public let baseURL: String
    private let recorded = Mutex<[RecordedRequest]>([])

    private init(port: Int) {
        baseURL = "http://127.0.0.1:\(port)"
    }

    public var requests: [RecordedRequest] { recorded.withLock { $0 } }
    public var lastRequest: RecordedRequest? { requests.last }

    fileprivate func record(_ request: RecordedRequest) {
        recorded.withLock { $0.append(request) }
    }

    /// Runs `body` while a fake service answers on a free port, then stops it.
    public static func with<T: Sendable>(
        _ handler: @escaping Handler, _ body: @Sendable (FakeService) async throws -> T
    ) async throws -> T {
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let service = Mutex<FakeService?>(nil)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var request = request
            let buffer = try await request.collectBody(upTo: 8 << 20)
            var headers: [String: String] = [:]
            for field in request.headers {
                let name = field.name.canonicalName
                headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
            }
            let uri = request.uri.description
            let pathAndQuery = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            let recordedRequest = RecordedRequest(
                method: request.method.rawValue,
                path: String(pathAndQuery[0]),
                rawQuery: pathAndQuery.count > 1 ? String(pathAndQuery[1]) : "",
                headers: headers,
                body: Data(buffer.readableBytesView),
                receivedAt: .now)
            service.withLock { $0 }?.record(recordedRequest)
            let answer = try await handler(recordedRequest)
            var fields = HTTPFields()
            for (name, value) in answer.headers {
                if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
            }
            return Response(
                status: .init(code: answer.status), headers: fields,
                body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        var logger = Logger(label: "fake-service")
        logger.logLevel = .critical
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.run()
                return nil
            }
            var ports = portStream.makeAsyncIterator()
            guard let port = await ports.next(), port > 0 else { throw FakeServiceError.didNotStart }
            let fake = FakeService(port: port)
            service.withLock { $0 = fake }
            defer { group.cancelAll() }
            return try await body(fake)
        }!
    }
}

public enum FakeServiceError: Error { case didNotStart }
