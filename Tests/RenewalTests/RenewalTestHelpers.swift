import CertkeeperConfig
import Foundation
import Renewal

/// A spec with just enough in it for scheduling tests.
func makeSpec(_ name: String, domains: [String]? = nil) -> CertificateSpec {
    let ca = CASettings(name: "pebble", directoryURL: "https://127.0.0.1:14000/dir")
    let account = AccountSettings(name: "default", ca: ca, contact: "ops@example.com", eab: nil, isDefault: true)
    return CertificateSpec(
        name: name, file: "/etc/certkeeper/certs.d/\(name).toml", domains: domains ?? ["\(name).example.test"],
        account: account, keyType: .ecdsaP256,
        challenge: ChallengeSpec(defaultSolver: .http01Listen(address: "127.0.0.1:5002")))
}

/// A deterministic random source (SplitMix64).
final class SeededRandom: RandomSource, @unchecked Sendable {
    private var state: UInt64
    private let lock = NSLock()
    init(seed: UInt64) { state = seed }
    func next() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
