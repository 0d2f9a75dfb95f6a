import ACMEModels
import SwiftASN1
import X509

/// Every subjectAltName of a leaf must be one that was requested: DNS names from the order, IP addresses only
/// when IP identifiers (RFC 8738) were requested, and nothing else (no URI, e-mail, directory or other name).
struct SubjectAltNameCheck {
    /// Requested DNS names, lowercased.
    var dnsNames: Set<String>
    /// Requested IP addresses as network-order bytes (4 or 16).
    var ipAddresses: Set<[UInt8]>

    func check(_ leaf: Certificate) throws {
        let sans: [GeneralName]
        do {
            sans = try leaf.extensions.subjectAlternativeNames.map(Array.init) ?? []
        } catch {
            throw ACMECryptoError.invalidCertificate(reason: "malformed subjectAltName: \(error)")
        }
        for name in sans {
            switch name {
            case .dnsName(let value) where dnsNames.contains(value.lowercased()):
                continue
            case .ipAddress(let octets) where ipAddresses.contains(Array(octets.bytes)):
                continue
            default:
                throw CertificateChainError.unexpectedSubjectAltName(
                    subject: leaf.subject.description, name: Self.describe(name))
            }
        }
    }

    /// "DNS name x", "IP address 192.0.2.1", "URI https://...", "e-mail x@y", made safe to log.
    static func describe(_ name: GeneralName) -> String {
        let text: String
        switch name {
        case .dnsName(let value): text = "DNS name \(value)"
        case .ipAddress(let octets): text = "IP address \(ipText(Array(octets.bytes)))"
        case .uniformResourceIdentifier(let value): text = "URI \(value)"
        case .rfc822Name(let value): text = "e-mail \(value)"
        default: text = "\(name)"
        }
        return UntrustedText.sanitized(text, maxBytes: 256)
    }

    static func ipText(_ bytes: [UInt8]) -> String {
        switch bytes.count {
        case 4:
            return bytes.map(String.init).joined(separator: ".")
        case 16:
            return stride(from: 0, to: 16, by: 2).map {
                String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
            }
            .joined(separator: ":")
        default:
            return bytes.map { String($0, radix: 16) }.joined(separator: " ")
        }
    }
}
