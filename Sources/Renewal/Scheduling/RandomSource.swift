/// Randomness as an input: jitter and backoff draw from this, so tests can fix it.
public protocol RandomSource: Sendable {
    /// A uniformly distributed 64-bit value.
    func next() -> UInt64
}

/// The system's random number generator.
public struct SystemRandomSource: RandomSource {
    public init() {}
    public func next() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }
}

/// Adapts a ``RandomSource`` to Swift's `RandomNumberGenerator` for `Double.random(in:using:)`.
public struct RandomSourceGenerator: RandomNumberGenerator {
    public let source: any RandomSource
    public init(_ source: any RandomSource) { self.source = source }
    public mutating func next() -> UInt64 { source.next() }
}
