import Foundation
import NIOSSL
import PostgresNIO

/// Where the shared state lives when it is not the local SQLite file: `MCP_PUSH_DATABASE_URL`
/// (`postgres://user:password@host:5432/database?sslmode=verify-full`), with `MCP_PUSH_DATABASE_POOL`
/// connections at most and `MCP_PUSH_DATABASE_CA_FILE` for a private CA.
package struct DatabaseSettings: Sendable {
    package enum TLSMode: String, Sendable, CaseIterable {
        /// Never (a database on loopback or a private network).
        case disable
        /// When the server offers it, unverified (PostgreSQL's own default).
        case prefer
        /// Always, unverified.
        case require
        /// Always, with the certificate checked against the host name.
        case verifyFull = "verify-full"
    }

    package static let variable = "MCP_PUSH_DATABASE_URL"

    package var host: String
    package var port: Int
    package var username: String
    package var password: String?
    package var database: String?
    package var tls: TLSMode
    package var caFile: String?
    package var poolSize: Int
    /// The most one operation may take, a connection included (`MCP_PUSH_DATABASE_TIMEOUT`, seconds).
    package var timeout: Duration

    /// Nil when `MCP_PUSH_DATABASE_URL` is not set (the SQLite file is the state).
    package init?(configuration: Configuration) throws(ConfigurationError) {
        guard let text = configuration[Self.variable] else { return nil }
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql",
            let host = url.host, !host.isEmpty
        else {
            throw .invalid(Self.variable, "expected postgres://user:password@host:5432/database")
        }
        guard let user = url.user, !user.isEmpty else { throw .invalid(Self.variable, "the URL names no user (postgres://USER@host/database)") }
        self.host = host
        port = url.port ?? 5432
        username = user.removingPercentEncoding ?? user
        password = url.password.map { $0.removingPercentEncoding ?? $0 }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        database = path.isEmpty ? nil : path
        let mode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard let tls = TLSMode(rawValue: mode) else {
            throw .invalid(Self.variable, "sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")), got \(mode)")
        }
        self.tls = tls
        caFile = configuration["MCP_PUSH_DATABASE_CA_FILE"]
        poolSize = try configuration.int("MCP_PUSH_DATABASE_POOL", in: 1...200) ?? 10
        timeout = try configuration.seconds("MCP_PUSH_DATABASE_TIMEOUT", in: 0.1...300) ?? .seconds(5)
    }

    /// The URL as it may be shown: without the password.
    package var redactedURL: String {
        "postgres://\(username)@\(host):\(port)/\(database ?? "")?sslmode=\(tls.rawValue)"
    }

    var tlsConfiguration: TLSConfiguration {
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if tls != .verifyFull { tlsConfiguration.certificateVerification = .none }
        if let caFile { tlsConfiguration.trustRoots = .file(caFile) }
        return tlsConfiguration
    }

    /// One connection's settings (to say why the pool cannot connect).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let mode: PostgresConnection.Configuration.TLS =
            switch tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration))
            case .require, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfiguration))
            }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: mode)
        configuration.options.connectTimeout = .milliseconds(Int64(timeout.seconds * 1000))
        return configuration
    }

    var clientConfiguration: PostgresClient.Configuration {
        let tlsConfiguration = self.tlsConfiguration
        let mode: PostgresClient.Configuration.TLS =
            switch tls {
            case .disable: .disable
            case .prefer: .prefer(tlsConfiguration)
            case .require, .verifyFull: .require(tlsConfiguration)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: mode)
        configuration.options.maximumConnections = poolSize
        configuration.options.connectTimeout = .seconds(5)
        // A replica stalled in the middle of a transaction must not hold the others: the server ends it.
        configuration.options.additionalStartupParameters = [
            ("idle_in_transaction_session_timeout", String(Int(timeout.seconds * 2000)))
        ]
        return configuration
    }
}
