public import X509

/// The ARI certificate identifier (RFC 9773 §4.1).
public enum ARICertID {
    /// `b64u(AKI keyIdentifier) + "." + b64u(serial DER value bytes)` for `certificate`.
    ///
    /// - Throws: ``ACMECryptoError/invalidCertificate(reason:)`` when the certificate has no AKI keyIdentifier.
    public static func make(for certificate: Certificate) throws -> String {
        let aki: [UInt8]?
        do {
            aki = try certificate.extensions.authorityKeyIdentifier?.keyIdentifier.map(Array.init)
        } catch {
            throw ACMECryptoError.invalidCertificate(reason: "malformed Authority Key Identifier: \(error)")
        }
        guard let aki, !aki.isEmpty else {
            throw ACMECryptoError.invalidCertificate(
                reason: "no Authority Key Identifier keyIdentifier (serial \(certificate.serialNumber)); ARI needs it"
            )
        }
        return make(authorityKeyIdentifier: aki, serialNumber: Array(certificate.serialNumber.bytes))
    }

    /// The certID from raw parts. `serialNumber` must be the DER INTEGER value bytes (keep a leading 0x00).
    public static func make(authorityKeyIdentifier: [UInt8], serialNumber: [UInt8]) -> String {
        "\(Base64URL.encode(authorityKeyIdentifier)).\(Base64URL.encode(serialNumber))"
    }
}
