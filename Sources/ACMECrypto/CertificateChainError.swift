import Foundation

/// Why an issued chain was rejected by ``CertificateChain/verify(expectedKey:expectedNames:now:)``.
package enum CertificateChainError: Error, Sendable, Hashable, CustomStringConvertible {
    case empty
    case leafKeyMismatch
    case namesMismatch(expected: [String], actual: [String])
    /// The leaf carries a subjectAltName that was not requested (`name` as "IP address 192.0.2.1", "URI ...").
    case unexpectedSubjectAltName(subject: String, name: String)
    case issuerMismatch(index: Int, subject: String, issuer: String)
    case badSignature(index: Int, subject: String)
    case notYetValid(notBefore: Date)
    case expired(notAfter: Date)

    package var description: String {
        switch self {
        case .empty:
            return "certificate chain is empty (no PEM CERTIFICATE blocks)"
        case .leafKeyMismatch:
            return "the leaf certificate's public key is not the key from our CSR; refusing to install it"
        case .namesMismatch(let expected, let actual):
            return "leaf SAN names \(actual) differ from the requested names \(expected)"
        case .unexpectedSubjectAltName(let subject, let name):
            return "leaf certificate \(subject) carries the subjectAltName \(name), which was not requested; "
                + "refusing to install it"
        case .issuerMismatch(let index, let subject, let issuer):
            return "chain certificate #\(index) (\(subject)) is not issued by the next certificate (\(issuer))"
        case .badSignature(let index, let subject):
            return "chain certificate #\(index) (\(subject)) has a signature the next certificate does not verify"
        case .notYetValid(let notBefore):
            return "leaf certificate is not valid before \(notBefore)"
        case .expired(let notAfter):
            return "leaf certificate expired at \(notAfter)"
        }
    }
}
