/// Randomness as an input: jitter and backoff draw from this, so tests can fix it.
package protocol RandomSource: Sendable {
    /// A uniformly distributed 64-bit value.
    func next() -> UInt64
}

/// The system's random number generator.
package struct SystemRandomSource: RandomSource {
    package init() {}
    package func next() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }
}

/// Adapts a ``RandomSource`` to Swift's `RandomNumberGenerator` for `Double.random(in:using:)`.
package struct RandomSourceGenerator: RandomNumberGenerator {
    package let source: any RandomSource
    package init(_ source: any RandomSource) { self.source = source }
    package mutating func next() -> UInt64 { source.next() }
}
