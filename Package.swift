// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "pls",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pls", targets: ["pls"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.0"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/vapor/leaf.git", from: "4.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.65.0"),
        // Imported directly (SQL built and read by hand, the ledger's own SQLite connection): declared, not borrowed.
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.49.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.32.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.12.0"),
        // /metrics in Prometheus's text format.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
    ],
    targets: [
        // Pure rules of the domain: no Vapor, no database (Crypto for the hash chain).
        .target(name: "PLSDomain", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Spreadsheet files (CSV, Excel .xlsx) as rows of text: formats, not rules.
        .target(name: "Spreadsheets", dependencies: [.product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // Declarations of the SQLite library SQLiteNIO links in, for the ledger's own connection (see its header).
        .target(name: "CSQLiteShared"),
        .target(
            name: "PLSApp",
            dependencies: [
                "PLSDomain",
                "Spreadsheets",
                "CSQLiteShared",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Leaf", package: "leaf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "pls", dependencies: [
            "PLSApp", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "PLSDomainTests", dependencies: ["PLSDomain"]),
        .testTarget(name: "SpreadsheetsTests", dependencies: ["Spreadsheets", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                    exclude: ["Fixtures"]),
        .testTarget(
            name: "PLSAppTests",
            dependencies: [
                "PLSApp",
                "PLSDomain",
                "Spreadsheets",
                .product(name: "XCTVapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
    ]
)
