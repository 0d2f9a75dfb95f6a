import X509

/// The ARI certificate identifier (RFC 9773 §4.1).
package enum ARICertID {
    /// `b64u(AKI keyIdentifier) + "." + b64u(serial DER value bytes)` for `certificate`.
    ///
    /// - Throws: ``ACMECryptoError/invalidCertificate(reason:)`` when the certificate has no AKI keyIdentifier.
    package static func make(for certificate: Certificate) throws -> String {
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
        return make(authorityKeyIdentifier: aki, serialNumber: derValueBytes(of: certificate.serialNumber))
    }

    /// The DER INTEGER value bytes of a serial: swift-certificates stores the unsigned magnitude without leading
    /// zeros, so a 0x00 is put back when the high bit is set (RFC 9773 §4.1 keeps it).
    package static func derValueBytes(of serial: Certificate.SerialNumber) -> [UInt8] {
        let bytes = Array(serial.bytes)
        guard let first = bytes.first else { return [0] }
        return first & 0x80 != 0 ? [0] + bytes : bytes
    }

    /// The certID from raw parts. `serialNumber` must be the DER INTEGER value bytes (keep a leading 0x00).
    package static func make(authorityKeyIdentifier: [UInt8], serialNumber: [UInt8]) -> String {
        "\(Base64URL.encode(authorityKeyIdentifier)).\(Base64URL.encode(serialNumber))"
    }
}
