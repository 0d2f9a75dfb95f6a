import ACMECrypto
import Foundation
import FuzzSupport
import X509

// PEM certificate chains as a CA sends them (`CertificateChain(pem:)`), the facts renewal reads from a leaf
// (`CertificateInfo`, `ARICertID`), the chain checks of `verify`, and PEM private keys (`SigningKey`).
//
// Input with a `-----BEGIN` line is PEM text. Anything else is taken as DER and wrapped in one CERTIFICATE block,
// so the fuzzer mutates the certificate itself rather than its base64.

enum Keys {
    static let key = try! SigningKey.generate(.ecdsaP256)
}

func pemText(_ bytes: [UInt8]) -> String? {
    if bytes.starts(with: Array("-----BEGIN".utf8)) || bytes.firstRange(of: Array("\n-----BEGIN".utf8)) != nil {
        return String(validating: bytes, as: UTF8.self)
    }
    let base64 = Data(bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
    return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPEM(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let pem = pemText(Fuzz.bytes(data, size)) else { return 0 }

    if pem.contains("PRIVATE KEY-----"), let key = try? SigningKey(pemRepresentation: pem) {
        let again = try? SigningKey(pemRepresentation: key.pemRepresentation)
        Fuzz.check(again?.publicJWK == key.publicJWK, "key does not survive its own PEM")
    }

    guard let chain = try? CertificateChain(pem: pem) else { return 0 }
    for certificate in chain.certificates {
        if let info = try? CertificateInfo(certificate: certificate) {
            _ = info.lifetime
            _ = info.serialHex
        }
        _ = try? ARICertID.make(for: certificate)
        _ = Keys.key.publicKeyMatches(certificate.publicKey)
    }
    for (certificate, issuer) in zip(chain.certificates, chain.certificates.dropFirst()) {
        _ = certificate.issuer == issuer.subject
        _ = issuer.publicKey.isValidSignature(certificate.signature, for: certificate)
    }
    let names = (try? CertificateInfo(certificate: chain.leaf).dnsNames) ?? []
    _ = try? chain.verify(expectedKey: Keys.key, expectedNames: names, now: chain.leaf.notValidBefore)

    guard let serialized = try? chain.pemRepresentation() else { return 0 }
    guard let reparsed = try? CertificateChain(pem: serialized) else {
        fatalError("a parsed chain does not parse from its own PEM")
    }
    Fuzz.check(reparsed.certificates == chain.certificates, "chain changes through its own PEM")
    return 0
}

let replayed: Void = FuzzReplay.run(CommandLine.arguments, fuzzPEM)
