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
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
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
        // libcurl's functions, loaded only when called: keeps libcurl and its ~30 libraries out of
        // the executable (see curl_on_demand.c and docs/PERFORMANCE.md). `link/` holds the empty
        // stand-in the linker finds for -lcurl.
        .target(
            name: "CurlOnDemand",
            exclude: ["link"],
            linkerSettings: [
                .linkedLibrary("dl"),
                .unsafeFlags(["-L", Context.packageDirectory + "/Sources/CurlOnDemand/link"], .when(platforms: [.linux])),
            ]
        ),
        .target(
            name: "PushCore",
            dependencies: [
                "SMTPClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "MCPPush",
            dependencies: [
                "PushCore",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // Each agent's hook payloads and settings files (Claude Code, Codex CLI, Gemini CLI):
        // payload to message, and merge-safe install / uninstall. Knows nothing of MCP.
        .target(
            name: "Agents",
            dependencies: ["PushCore"]
        ),
        .executableTarget(
            name: "mcp-push",
            dependencies: [
                "PushCore",
                "MCPPush",
                "Agents",
                "CurlOnDemand",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The static Swift runtime's link arguments export every symbol of the executable (47 000).
            // Nothing looks them up, but the dynamic loader checks that table first for every symbol
            // the shared libraries bind, and the runtime's start-up `dladdr` walks it: about 1.5 ms
            // and 1.7 MiB of every start (docs/PERFORMANCE.md).
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux], configuration: .release)),
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
            ]
        ),
        .testTarget(
            name: "AgentsTests",
            dependencies: ["Agents", "PushCore", "TestSupport"]
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
                "TestSupport",
                .product(name: "MCP", package: "swift-sdk"),
            ]
        ),
    ]
)
