import ACMECrypto
import CertStore
import CertkeeperConfig

/// Compares what a spec wants (names, key type, CA) with what is installed. Pure.
package enum Reconciler {
    /// Why a new order is needed regardless of timing, or nil when the installed certificate matches the spec.
    package static func mismatch(spec: CertificateSpec, installed: InstalledCertificate?, state: CertificateState?)
        -> String?
    {
        guard let installed else { return "no certificate is installed" }
        let wanted = Set(spec.domains.map { $0.lowercased() })
        let have = Set(installed.info.identifiers.map { $0.lowercased() })
        if wanted != have {
            return
                "names changed (installed: \(have.sorted().joined(separator: " ")); wanted: \(wanted.sorted().joined(separator: " ")))"
        }
        if !installed.keyMatches { return "the installed key does not belong to the installed certificate" }
        if let revoked = state?.revokedSerial, revoked == installed.info.serialHex {
            return "the installed certificate (serial \(revoked)) was revoked"
        }
        if let keyType = installed.keyType, keyType != spec.keyType {
            return "key type changed (installed: \(keyType.rawValue); wanted: \(spec.keyType.rawValue))"
        }
        if let issuer = state?.issuer?.directoryURL, issuer != spec.ca.directoryURL {
            return "CA changed (issued by \(issuer); wanted: \(spec.ca.directoryURL))"
        }
        return nil
    }
}
