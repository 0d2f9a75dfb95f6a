import ACMECrypto
import Foundation
import Testing
import X509

@testable import HTTPTransportAHC

@Suite struct AsyncHTTPClientTransportTests {
    static func temporaryFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("certkeeper-roots-\(UUID().uuidString).pem").path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func selfSignedPEM() throws -> String {
        let key = try SigningKey.generate(.ecdsaP256)
        let name = try DistinguishedName { CommonName("certkeeper test root") }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.certificatePrivateKey.publicKey,
            notValidBefore: now - 86400,
            notValidAfter: now + 86400,
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            },
            issuerPrivateKey: key.certificatePrivateKey
        )
        return try CertificateChain(certificates: [certificate]).pemRepresentation()
    }

    @Test func missingTrustRootsFileFailsAtOnceNamingTheFile() throws {
        let path = "/nonexistent/certkeeper-\(UUID().uuidString)/roots.pem"
        let error = try #require(throws: TrustRootsFileError.self) {
            _ = try AsyncHTTPClientTransport(trustRootsPEMFile: path)
        }
        #expect(error.path == path)
        #expect(error.description.contains(path))
        #expect(error.description.contains("No such file or directory"))
    }

    @Test func trustRootsFileWithoutCertificatesFailsNamingTheFile() throws {
        let path = try Self.temporaryFile("this is not a certificate\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: TrustRootsFileError.self) {
            _ = try AsyncHTTPClientTransport(trustRootsPEMFile: path)
        }
        #expect(error.path == path)
        #expect(error.description.contains(path))
    }

    @Test func validTrustRootsFileLoads() async throws {
        let path = try Self.temporaryFile(try Self.selfSignedPEM())
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try AsyncHTTPClientTransport.loadTrustRoots(pemFile: path).count == 1)
        let transport = try AsyncHTTPClientTransport(trustRootsPEMFile: path)
        try await transport.shutdown()
    }

    @Test func configuredRootsStandAloneWithoutASystemBundle() {
        #expect(
            AsyncHTTPClientTransport.trustRootsPlan(configured: true, systemBundleAvailable: false) == .configuredOnly)
        #expect(
            AsyncHTTPClientTransport.trustRootsPlan(configured: true, systemBundleAvailable: true)
                == .systemPlusConfigured)
        #expect(AsyncHTTPClientTransport.trustRootsPlan(configured: false, systemBundleAvailable: false) == .system)
    }
}
