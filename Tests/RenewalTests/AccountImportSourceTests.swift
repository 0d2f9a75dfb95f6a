import ACMECrypto
import Foundation
import Renewal
import Testing

/// certbot and lego account directories, made here the way those clients write them.
@Suite struct AccountImportSourceTests {
    /// A fresh temporary directory (removed by the caller's defer).
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "certkeeper-import-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// certbot's private_key.json for an RSA key: n, e, d, p, q, dp, dq, qi (made with openssl's components).
    private func rsaPrivateJWK(_ pem: String, directory: String) throws -> String {
        let keyFile = directory + "/rsa.pem"
        try write(pem, to: keyFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["rsa", "-in", keyFile, "-noout", "-text"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl rsa -text failed")
        // Parse "modulus:\n    00:ab:...\npublicExponent: 65537 (0x10001)\nprivateExponent:\n ..." into hex blobs.
        var fields: [String: [UInt8]] = [:]
        var current: String?
        var hex = ""
        func flush() {
            if let current {
                var bytes = stride(from: 0, to: hex.count, by: 2).compactMap { offset -> UInt8? in
                    let start = hex.index(hex.startIndex, offsetBy: offset)
                    return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
                }
                while bytes.first == 0 && bytes.count > 1 { bytes.removeFirst() }
                fields[current] = bytes
            }
            current = nil
            hex = ""
        }
        for line in output.split(separator: "\n") {
            if line.hasPrefix(" ") {
                hex += line.filter { $0.isHexDigit }
            } else {
                flush()
                if line.hasPrefix("publicExponent:") { continue }
                current = line.split(separator: ":").first.map(String.init)
            }
        }
        flush()
        let names = [
            ("n", "modulus"), ("d", "privateExponent"), ("p", "prime1"), ("q", "prime2"), ("dp", "exponent1"),
            ("dq", "exponent2"), ("qi", "coefficient"),
        ]
        var members = ["\"kty\": \"RSA\"", "\"e\": \"AQAB\""]
        for (jwkName, opensslName) in names {
            let bytes = try #require(fields[opensslName], "openssl output lacks \(opensslName)")
            members.append("\"\(jwkName)\": \"\(Base64URL.encode(bytes))\"")
        }
        return "{" + members.joined(separator: ", ") + "}"
    }

    @Test func certbotRSAAccountDirectory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = try SigningKey.generate(.rsa2048)
        let account = directory + "/accounts/acme-v02.api.letsencrypt.org/directory/0123abcd"
        try write(try rsaPrivateJWK(key.pemRepresentation, directory: directory), to: account + "/private_key.json")
        try write(
            #"{"body": {"contact": ["mailto:ops@example.com"], "status": "valid"}, "uri": "https://ca.test/acct/7"}"#,
            to: account + "/regr.json")
        try write(#"{"creation_dt": "2024-01-01T00:00:00Z", "creation_host": "old"}"#, to: account + "/meta.json")

        let source = try AccountImportSource.load(certbot: account, lego: nil, pemKey: nil)
        #expect(source.key.publicJWK == key.publicJWK)
        #expect(source.key.keyType == .rsa2048)
        #expect(source.accountURL == "https://ca.test/acct/7")
        #expect(source.contact == ["mailto:ops@example.com"])
        #expect(source.origin == "certbot \(account)")
    }

    @Test func certbotECAccountWithoutRegr() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = try SigningKey.generate(.ecdsaP256)
        let jwk = key.publicJWK
        let d = try #require(ecPrivateScalar(key))
        try write(
            #"{"kty":"EC","crv":"P-256","x":"\#(jwk.x ?? "")","y":"\#(jwk.y ?? "")","d":"\#(Base64URL.encode(d))"}"#,
            to: directory + "/private_key.json")
        let source = try AccountImportSource.fromCertbot(directory)
        #expect(source.key.publicJWK == jwk)
        #expect(source.accountURL == nil)
        #expect(source.contact.isEmpty)
    }

    @Test func certbotBrokenJWKNamesTheFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write(#"{"kty":"RSA","n":"AQAB"}"#, to: directory + "/private_key.json")
        let error = try #require(throws: AccountImportError.self) { try AccountImportSource.fromCertbot(directory) }
        #expect(error.path == directory + "/private_key.json")
        #expect(error.description.contains("certbot account directory"))
    }

    @Test func legoAccountDirectory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = try SigningKey.generate(.ecdsaP384)
        let account = directory + "/accounts/acme-v02.api.letsencrypt.org/ops@example.com"
        try write(
            #"{"email":"ops@example.com","registration":{"body":{"status":"valid","contact":["mailto:ops@example.com"]},"uri":"https://ca.test/acct/9"},"key":""}"#,
            to: account + "/account.json")
        try write(key.pemRepresentation, to: account + "/keys/ops@example.com.key")

        let source = try AccountImportSource.load(certbot: nil, lego: account, pemKey: nil)
        #expect(source.key.publicJWK == key.publicJWK)
        #expect(source.key.keyType == .ecdsaP384)
        #expect(source.accountURL == "https://ca.test/acct/9")
        #expect(source.contact == ["mailto:ops@example.com"])
    }

    @Test func legoContactFallsBackToEmailAndRSAKey() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = try SigningKey.generate(.rsa2048)
        try write(#"{"email":"a@example.com","registration":null}"#, to: directory + "/account.json")
        try write(key.pemRepresentation, to: directory + "/keys/a@example.com.key")
        let source = try AccountImportSource.fromLego(directory)
        #expect(source.contact == ["mailto:a@example.com"])
        #expect(source.accountURL == nil)
        #expect(source.key.publicJWK == key.publicJWK)
    }

    @Test func legoWithoutKeyFails() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write(#"{"email":"a@example.com"}"#, to: directory + "/account.json")
        let error = try #require(throws: AccountImportError.self) { try AccountImportSource.fromLego(directory) }
        #expect(error.description.contains("no account key"))
    }

    @Test func exactlyOneSource() throws {
        #expect(throws: AccountImportError.self) { try AccountImportSource.load(certbot: nil, lego: nil, pemKey: nil) }
        #expect(throws: AccountImportError.self) {
            try AccountImportSource.load(certbot: "/a", lego: "/b", pemKey: nil)
        }
    }

    @Test func pemKeyFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = try SigningKey.generate(.ecdsaP256)
        try write(key.pemRepresentation, to: directory + "/key.pem")
        let source = try AccountImportSource.load(certbot: nil, lego: nil, pemKey: directory + "/key.pem")
        #expect(source.key.publicJWK == key.publicJWK)
        #expect(throws: AccountImportError.self) { try AccountImportSource.fromPEM(directory + "/missing.pem") }
    }

    /// The raw private scalar of a P-256 key, read back from its PEM via openssl-free DER parsing (SEC1 or PKCS#8).
    private func ecPrivateScalar(_ key: SigningKey) -> [UInt8]? {
        let body = key.pemRepresentation.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let der = Data(base64Encoded: body) else { return nil }
        let bytes = [UInt8](der)
        // Both encodings hold the scalar as "04 20 <32 bytes>" (OCTET STRING of length 32) before the public key.
        for index in 0..<(bytes.count - 34) where bytes[index] == 0x04 && bytes[index + 1] == 0x20 {
            return Array(bytes[(index + 2)..<(index + 34)])
        }
        return nil
    }
}
