import CertkeeperConfig
import Renewal

/// Which specs name a profile their CA does not advertise (asks the CA's directory).
package protocol ProfileChecking: Sendable {
    /// The rejected specs among `specs`, by name, each with a diagnostic for the operator.
    func rejections(for specs: [CertificateSpec]) async -> [String: ConfigDiagnostic]
}

extension ProfileValidator: ProfileChecking {}
