/// How long each phase of one order took (monotonic time), logged after the certificate is installed and read by
/// `bench/peers.sh` to show where an order's time goes. Measurement only: no decision depends on it.
package struct OrderTimings: Sendable, Equatable {
    package enum Phase: String, CaseIterable, Sendable {
        /// newOrder and saving the order (or looking at the order being continued).
        case newOrder
        /// Fetching the authorizations.
        case authorizations
        /// Presenting the challenge answers (responder, DNS record) and waiting until they are visible.
        case challenges
        /// Telling the CA to validate and polling until the authorization is settled.
        case validation
        /// CSR, finalize and polling while the CA issues.
        case finalize
        /// Downloading and verifying the chain.
        case download
        /// Writing the key and chain.
        case install
    }

    package private(set) var durations: [Phase: Duration] = [:]

    package init() {}

    package mutating func add(_ phase: Phase, _ duration: Duration) {
        durations[phase, default: .zero] += duration
    }

    /// Runs `body` and adds its duration (also when it throws) to `phase`.
    package mutating func measure<T>(_ phase: Phase, _ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        defer { add(phase, ContinuousClock.now - start) }
        return try await body()
    }

    /// `newOrder=12ms authorizations=3ms ...`: every phase that ran, in order, in whole milliseconds.
    package var summary: String {
        Phase.allCases.compactMap { phase in
            durations[phase].map { "\(phase.rawValue)=\(Self.milliseconds($0))ms" }
        }.joined(separator: " ")
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
