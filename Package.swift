// swift-tools-version:6.1
// The EHCP case-workflow service: see README.md and docs/.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "ehcp",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ehcp", targets: ["ehcp"]),
        .executable(name: "ehcp-bench", targets: ["ehcp-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Pure domain: events, decide/evolve, statutory rules, calendar. No I/O, no clock.
        .target(
            name: "EHCPDomain",
            resources: [.copy("Resources/uk-bank-holidays.json")],
            swiftSettings: strict
        ),
        // Synthetic caseloads for demos and benchmarks: pure, built on the domain.
        .target(name: "EHCPDemo", dependencies: ["EHCPDomain"], swiftSettings: strict),
        // libpq, wrapped as a system library. Only `Postgres` imports it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // A small safe Swift client over libpq. Knows nothing of cases.
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Event store, projections, migrations, the embedded database launcher.
        .target(
            name: "EHCPStore",
            dependencies: [
                "EHCPDomain", "Postgres", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"), .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            resources: [.copy("Resources/schema.sql"), .copy("Resources/migrations")],
            swiftSettings: strict
        ),
        // HTTP routes, request/response types, authentication, error mapping (Hummingbird).
        .target(
            name: "EHCPAPI",
            dependencies: [
                "EHCPDomain", "EHCPStore", "EHCPReports", "Postgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("Resources/openapi.json")],
            swiftSettings: strict
        ),
        // The web pages for people (GOV.UK patterns): sign-in and sessions, my work, cases, the case page,
        // recording what happened, and the managers' reports. Mustache templates and the stylesheet are resources.
        .target(
            name: "EHCPWeb",
            dependencies: [
                "EHCPDomain", "EHCPStore", "EHCPAPI", "EHCPReports", "Postgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources/templates"), .copy("Resources/assets")],
            swiftSettings: strict
        ),
        // A small SMTP client over SwiftNIO (STARTTLS, implicit TLS, AUTH): knows nothing of cases.
        .target(
            name: "SMTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // Deadline sweep (breaches, reminders), alerts, and their delivery by webhook and email.
        .target(
            name: "EHCPScheduler",
            dependencies: [
                "EHCPDomain", "EHCPStore", "Postgres", "SMTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Timeliness KPIs, breach reports and the SEN2 return: SQL over the projections.
        .target(
            name: "EHCPReports",
            dependencies: ["EHCPDomain", "EHCPStore", "Postgres"],
            resources: [.copy("Resources/england.json")],
            swiftSettings: strict
        ),
        // Composition root: configuration, HTTP application, services.
        .target(
            name: "EHCPServer",
            dependencies: [
                "EHCPDomain", "EHCPStore", "EHCPAPI", "EHCPWeb", "EHCPScheduler", "EHCPReports", "Postgres", "SMTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // What both command-line programs share: where the database is, and loading a demo caseload.
        .target(
            name: "EHCPCommandLine",
            dependencies: [
                "EHCPDomain", "EHCPDemo", "EHCPStore", "EHCPServer", "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ehcp",
            dependencies: [
                "EHCPCommandLine", "EHCPDomain", "EHCPDemo", "EHCPStore", "EHCPAPI", "EHCPWeb", "EHCPScheduler", "EHCPReports", "EHCPServer",
                "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Benchmark programs (docs/performance.md), kept out of the product's binary.
        .executableTarget(
            name: "ehcp-bench",
            dependencies: [
                "EHCPCommandLine", "EHCPDomain", "EHCPStore", "EHCPAPI", "EHCPWeb", "EHCPScheduler", "EHCPReports", "EHCPServer", "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The request-body fuzz target (docs/security.md): a corpus replayer, or libFuzzer's with -DFUZZING.
        .executableTarget(
            name: "ehcp-fuzz-request-body", dependencies: ["EHCPDomain"], path: "Fuzz/RequestBody", exclude: ["corpus"], swiftSettings: strict),
        .target(
            name: "TestSupport",
            dependencies: ["Postgres", "EHCPDomain", "EHCPStore", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "EHCPDomainTests", dependencies: ["EHCPDomain"], swiftSettings: strict),
        .testTarget(name: "EHCPDemoTests", dependencies: ["EHCPDemo", "EHCPDomain"], swiftSettings: strict),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "EHCPStoreTests",
            dependencies: ["EHCPStore", "EHCPDomain", "EHCPDemo", "Postgres", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EHCPReportsTests",
            dependencies: ["EHCPReports", "EHCPStore", "EHCPDomain", "EHCPDemo", "Postgres", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EHCPSchedulerTests",
            dependencies: [
                "EHCPScheduler", "EHCPStore", "EHCPDomain", "Postgres", "TestSupport", "SMTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "EHCPWebTests", dependencies: ["EHCPWeb"], swiftSettings: strict),
        .testTarget(
            name: "EHCPServerTests",
            dependencies: [
                "EHCPServer", "EHCPAPI", "EHCPWeb", "EHCPScheduler", "EHCPStore", "EHCPDomain", "Postgres", "TestSupport", "SMTP",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
    ]
)
