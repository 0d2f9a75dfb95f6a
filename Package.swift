// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .treatAllWarnings(as: .error),
]

/// The release daemon is linked by lld with packed relative relocations (RELR, glibc 2.36) and without exporting its
/// symbols: the 133,000 RELA entries (3.2 MB) and the 3.7 MB dynamic symbol table that the static Swift runtime's
/// `-export-dynamic` adds were read at every start and stayed resident, 5.9 MB of a 29.5 MB idle daemon. Crash
/// backtraces read the full symbol table (`.symtab`), which stays. The functions the daemon runs are placed together
/// (`link/certkeeper.order`, from `scripts/link-order.sh`): scattered over 30 MB of text, each one kept its 64 KB
/// fault-around window resident (22.6 MB of text resident after 100 certificates; 12 MB ordered).
let packageDirectory = String(#filePath.dropLast("Package.swift".count))
let releaseLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(
        [
            "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
            "-Xlinker", "--symbol-ordering-file=\(packageDirectory)link/certkeeper.order",
            "-Xlinker", "--no-warn-symbol-ordering",
        ],
        .when(platforms: [.linux], configuration: .release))
]

let package = Package(
    name: "certkeeper",
    products: [
        .executable(name: "certkeeper", targets: ["certkeeper"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Wire types for RFC 8555 / 8737 / 9773: no behaviour, no I/O.
        .target(name: "ACMEModels", swiftSettings: swiftSettings),
        // Keys, JWK/JWS, EAB, thumbprint, CSR, chain verification, ARI CertID.
        .target(
            name: "ACMECrypto",
            dependencies: [
                "ACMEModels",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // RFC 8555 flows over an injected HTTPTransport.
        .target(
            name: "ACMEClient",
            dependencies: ["ACMEModels", "ACMECrypto", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The only AsyncHTTPClient-backed HTTPTransport.
        .target(
            name: "HTTPTransportAHC",
            dependencies: [
                "ACMEClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Declarative configuration: certkeeper.toml + certs.d/*.toml, with FILE:LINE:COLUMN errors.
        .target(
            name: "CertkeeperConfig",
            dependencies: [
                "ACMECrypto", .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // DNS wire format, TSIG (RFC 8945), RFC 2136 updates, propagation queries.
        .target(
            name: "DNSWire",
            dependencies: ["DaemonThreads", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // Files in directories others may control: descriptor-relative, O_NOFOLLOW, symlinks only where trusted;
        // atomic writes, owners, names that may become path components. Used by the store and the installer.
        .target(name: "SafeFiles", dependencies: ["CFileSync", "DaemonThreads"], swiftSettings: swiftSettings),
        // Where work runs without libdispatch, whose worker pool wakes an idle process every second: Swift
        // concurrency's global executor on NIO's event loops, threads of our own for blocking I/O, wall-clock timers,
        // the stop and reload signals taken by a thread with sigwaitinfo.
        .target(
            name: "DaemonThreads",
            dependencies: [
                "CDaemonThreads", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        // prctl(PR_SET_NAME), mallopt and malloc_trim, and a signal's disposition, for DaemonThreads.
        .target(name: "CDaemonThreads"),
        // syncfs(2), which Swift's Glibc module does not declare.
        .target(name: "CFileSync"),
        // Log metadata keys and journal MESSAGE_IDs, defined once.
        .target(
            name: "CertkeeperLogging", dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        // Persistent state: accounts, certificate state, locks; file store and in-memory twin.
        .target(
            name: "CertStore",
            dependencies: ["ACMECrypto", "CFileSync", "SafeFiles", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        // The store on PostgreSQL for fleets: accounts, certificate state, leases; schema migrations; keys sealed at rest.
        .target(
            name: "PostgresStore",
            dependencies: [
                "CertStore", "SafeFiles", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // Challenge solvers: http-01 (webroot, built-in), dns-01 (rfc2136, exec), tls-alpn-01.
        .target(
            name: "ChallengeSolvers",
            dependencies: [
                "ACMECrypto", "DNSWire", "SafeFiles", "Subprocess",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Running argv-list children with captured output and a timeout (hooks, exec DNS provider).
        // C: posix_spawn's closefrom action (a glibc extension Swift does not import).
        .target(name: "CSpawn"),
        .target(
            name: "Subprocess",
            dependencies: [
                "CSpawn", "SafeFiles", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        // Atomic installation of keys and certificates, owner/group/mode, hooks.
        .target(
            name: "Installer",
            dependencies: [
                "ACMEModels", "CertkeeperLogging", "SafeFiles", "Subprocess",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // sockaddr_un for filesystem and abstract socket paths (journal, notify and control sockets).
        .target(name: "UnixSockets", swiftSettings: swiftSettings),
        // sd_notify and the journald log handler; knows nothing about ACME.
        .target(
            name: "SystemdSupport",
            dependencies: ["UnixSockets", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The control socket: one JSON ControlCommand line in, one ControlResponse line out; server and client.
        .target(
            name: "ControlSocket",
            dependencies: [
                "UnixSockets", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Certificates kept valid: account reconciliation, issuing, the lifecycle, scheduling.
        // dns-01 through DNS providers' HTTP APIs (PowerDNS, Route 53, Cloudflare) behind one protocol.
        .target(
            name: "DNSProviders",
            dependencies: [
                "ACMEClient", "ACMEModels", "CertStore", "ChallengeSolvers", "DNSWire",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Renewal",
            dependencies: [
                "ACMEModels", "ACMECrypto", "ACMEClient", "CertkeeperConfig", "CertkeeperLogging", "CertStore",
                "ChallengeSolvers", "DNSProviders", "DNSWire", "DaemonThreads", "Installer", "SafeFiles",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        // Prometheus metrics: the registry (swift-prometheus), the /metrics endpoint and the node_exporter textfile.
        .target(
            name: "DaemonMetrics",
            dependencies: [
                "ACMEClient", "CertkeeperConfig", "Renewal", "SafeFiles",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The running daemon's controller (reload, renew, status) and its services (ServiceLifecycle).
        .target(
            name: "DaemonControl",
            dependencies: [
                "CertStore", "CertkeeperConfig", "CertkeeperLogging", "ControlSocket", "Renewal", "SystemdSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command line and the composition root (production parts wired into the controller and services).
        .target(
            name: "CertkeeperCLI",
            dependencies: [
                "ACMEClient", "ACMECrypto", "CertStore", "CertkeeperConfig", "CertkeeperLogging", "ChallengeSolvers",
                "ControlSocket", "DaemonControl", "DaemonMetrics", "HTTPTransportAHC", "Installer", "PostgresStore",
                "Renewal",
                "DaemonThreads", "SafeFiles", "SystemdSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "certkeeper", dependencies: ["CertkeeperCLI"], swiftSettings: swiftSettings,
            linkerSettings: releaseLinkerSettings),
        // The same command line with crash points armed by CERTKEEPER_FAULT, for the crash end-to-end tests only.
        .executableTarget(
            name: "certkeeper-crashing", dependencies: ["CertkeeperCLI", "TestSupport"], path: "Tests/CrashingBinary",
            swiftSettings: swiftSettings),
        // Test kit: clocks, sockets, Pebble harness, fakes. Linked by tests only.
        .target(
            name: "TestSupport",
            dependencies: [
                "ACMEClient", "ACMECrypto", "ACMEModels", "HTTPTransportAHC", "Renewal", "SafeFiles",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ACMECryptoTests", dependencies: ["ACMECrypto", "ACMEModels"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ACMEClientTests",
            dependencies: [
                "ACMEClient", "ACMECrypto", "ACMEModels", "HTTPTransportAHC", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CertkeeperConfigTests", dependencies: ["CertkeeperConfig"], swiftSettings: swiftSettings),
        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DaemonMetricsTests", dependencies: ["DaemonMetrics", "ACMEClient", "CertkeeperConfig", "Renewal"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CertStoreTests",
            dependencies: [
                "CertStore", "ACMECrypto", "PostgresStore", "SafeFiles",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SafeFilesTests", dependencies: ["SafeFiles", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ChallengeSolversTests",
            dependencies: [
                "ChallengeSolvers", "ACMECrypto", "DNSWire", "SafeFiles", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DNSProvidersTests",
            dependencies: [
                "DNSProviders", "ChallengeSolvers", "DNSWire", "ACMEClient", "CertStore", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InstallerTests",
            dependencies: [
                "Installer", "SafeFiles", "Subprocess", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DaemonThreadsTests",
            dependencies: [
                "DaemonThreads", "TestSupport", .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SystemdSupportTests",
            dependencies: [
                "SystemdSupport", "TestSupport", "UnixSockets", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ControlSocketTests",
            dependencies: ["ControlSocket", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DaemonControlTests",
            dependencies: [
                "DaemonControl", "ControlSocket", "CertStore", "CertkeeperConfig", "Renewal", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RenewalTests",
            dependencies: [
                "Renewal", "TestSupport", "ACMEClient", "ACMECrypto", "ACMEModels", "CertStore", "CertkeeperConfig",
                "Installer", "ChallengeSolvers", "DaemonControl", "SafeFiles",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // libFuzzer targets (scripts/fuzz.sh; README "Fuzzing"). A plain build gives each a main that replays files.
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport", swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzConfig", dependencies: ["FuzzSupport", "CertkeeperConfig"], path: "Fuzz/FuzzConfig",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzACMEJSON", dependencies: ["FuzzSupport", "ACMEModels"], path: "Fuzz/FuzzACMEJSON",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzDNS", dependencies: ["FuzzSupport", "DNSWire"], path: "Fuzz/FuzzDNS",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzPEM",
            dependencies: ["FuzzSupport", "ACMECrypto", .product(name: "X509", package: "swift-certificates")],
            path: "Fuzz/FuzzPEM", swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzControlRequest", dependencies: ["FuzzSupport", "ControlSocket"], path: "Fuzz/FuzzControlRequest",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzHTTP01",
            dependencies: [
                "FuzzSupport", "ChallengeSolvers", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Fuzz/FuzzHTTP01", swiftSettings: swiftSettings
        ),
    ]
)
