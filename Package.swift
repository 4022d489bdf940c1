// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "mcp-push",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mcp-push", targets: ["mcp-push"]),
        .library(name: "PushCore", targets: ["PushCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // A small SMTP submission client on SwiftNIO (no Swift SMTP library is available).
        .target(
            name: "SMTPClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        // JSON read and written by hand, object order kept, strings exactly as sent.
        .target(name: "JSONText"),
        .target(
            name: "PushCore",
            dependencies: [
                "SMTPClient",
                "JSONText",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // MCP itself (JSON-RPC, every revision from 2024-11-05 to 2026-07-28, stdio and Streamable
        // HTTP): knows nothing of notifications.
        .target(
            name: "MCPProtocol",
            dependencies: [
                "JSONText",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // mcp-push's tools, prompt and resources, served by MCPProtocol.
        .target(
            name: "MCPPush",
            dependencies: [
                "PushCore",
                "MCPProtocol",
                "Approvals",
                "JSONText",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Each agent's hook payloads and settings files (Claude Code, Codex CLI, Gemini CLI):
        // payload to message, and merge-safe install / uninstall. Knows nothing of MCP.
        .target(
            name: "Agents",
            dependencies: ["PushCore", "JSONText"]
        ),
        // Questions answered from the phone: one-time tokens, Telegram buttons (one shared poller),
        // ntfy actions, the web page. Knows nothing of MCP.
        .target(
            name: "Approvals",
            dependencies: [
                "PushCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "mcp-push",
            dependencies: [
                "PushCore",
                "MCPPush",
                "Agents",
                "Approvals",
                "MCPProtocol",
                "JSONText",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Fake push services on 127.0.0.1 for the tests (not part of the product).
        .target(
            name: "TestSupport",
            dependencies: [
                "PushCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "PushCoreTests",
            dependencies: [
                "PushCore",
                "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "AgentsTests",
            dependencies: ["Agents", "PushCore", "JSONText", "TestSupport"]
        ),
        .testTarget(
            name: "ApprovalsTests",
            dependencies: ["Approvals", "PushCore", "TestSupport"]
        ),
        .testTarget(
            name: "SMTPClientTests",
            dependencies: ["SMTPClient"]
        ),
        .testTarget(
            name: "MCPPushTests",
            dependencies: [
                "PushCore",
                "MCPPush",
                "MCPProtocol",
                "JSONText",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "MCPProtocolTests",
            dependencies: ["MCPProtocol", "JSONText", "TestSupport"]
        ),
    ]
)
