/// An immutable value held by reference, compared and hashed by value: a part of a ``CertificateSpec`` that many specs
/// say alike (the account and its CA, the challenge, the install paths, the hooks) is kept once for all of them.
final class Shared<Value: Hashable & Sendable>: Hashable, Sendable {
    let value: Value

    init(_ value: Value) { self.value = value }

    static func == (lhs: Shared, rhs: Shared) -> Bool { lhs === rhs || lhs.value == rhs.value }

    func hash(into hasher: inout Hasher) { hasher.combine(value) }
}

/// The shared parts of the specs of one configuration load (``CertificateSpec/sharing(_:)``): each distinct value once.
///
/// A part already taken from this pool is recognised by identity, so a reload's thousands of specs from the parse
/// cache cost a set lookup each, not a hash of their account.
package struct SpecSharing {
    private var accounts: [AccountSettings: Shared<AccountSettings>] = [:]
    private var challenges: [ChallengeSpec: Shared<ChallengeSpec>] = [:]
    private var installs: [InstallSpec: Shared<InstallSpec>] = [:]
    private var hooks: [HooksSpec: Shared<HooksSpec>] = [:]
    /// Every reference the pool holds.
    private var held: Set<ObjectIdentifier> = []

    package init() {}

    /// How many distinct parts the pool holds (tests).
    package var count: Int { held.count }

    mutating func share(_ part: inout Shared<AccountSettings>, changed: inout Bool) {
        Self.share(&part, in: &accounts, held: &held, changed: &changed)
    }

    mutating func share(_ part: inout Shared<ChallengeSpec>, changed: inout Bool) {
        Self.share(&part, in: &challenges, held: &held, changed: &changed)
    }

    mutating func share(_ part: inout Shared<InstallSpec>, changed: inout Bool) {
        Self.share(&part, in: &installs, held: &held, changed: &changed)
    }

    mutating func share(_ part: inout Shared<HooksSpec>, changed: inout Bool) {
        Self.share(&part, in: &hooks, held: &held, changed: &changed)
    }

    private static func share<Value>(
        _ part: inout Shared<Value>, in table: inout [Value: Shared<Value>], held: inout Set<ObjectIdentifier>,
        changed: inout Bool
    ) {
        guard !held.contains(ObjectIdentifier(part)) else { return }
        if let existing = table[part.value] {
            part = existing
            changed = true
        } else {
            table[part.value] = part
            held.insert(ObjectIdentifier(part))
        }
    }
}
