import ACMEClient
import ACMECrypto
import ACMEModels
import Foundation
import HTTPTransportAHC
import TestSupport
import Testing

/// Against a real Pebble started by `scripts/testenv/pebble.sh start DIR`; run with `DIR/env` exported.
@Suite(
    .enabled(if: PebbleEnvironment.isAvailable, "set CERTKEEPER_TEST_ACME_DIRECTORY (source DIR/env from pebble.sh)"))
struct PebbleIntegrationTests {
    static func withClient(_ body: (PebbleEnvironment, ACMEClient, AsyncHTTPClientTransport) async throws -> Void)
        async throws
    {
        let env = try #require(PebbleEnvironment.current)
        let transport = try env.makeTransport()
        let client = ACMEClient(directoryURL: env.directoryURL, transport: transport, userAgent: "certkeeper-tests")
        do {
            try await body(env, client, transport)
        } catch {
            try? await transport.shutdown()
            throw error
        }
        try await transport.shutdown()
    }

    @Test func accountCreateLookupUpdateRolloverDeactivate() async throws {
        try await Self.withClient { _, client, _ in
            let key = try SigningKey.generate(.ecdsaP256)
            let created = try await client.newAccount(key: key, contact: ["mailto:h1@example.org"])
            #expect(created.created)
            #expect(created.account.status == .valid)
            let again = try await client.newAccount(key: key, contact: ["mailto:other@example.org"])
            #expect(!again.created)
            #expect(again.url == created.url)
            let found = try await client.newAccount(key: key, onlyReturnExisting: true)
            #expect(found.url == created.url)

            let updated = try await client.updateAccount(
                url: created.url, key: key, contact: ["mailto:new@example.org"])
            #expect(updated.contact == ["mailto:new@example.org"])

            let newKey = try SigningKey.generate(.ecdsaP256)
            try await client.changeKey(accountURL: created.url, oldKey: key, newKey: newKey)
            await #expect(throws: ACMEProblem.self) {
                try await client.updateAccount(url: created.url, key: key, contact: ["mailto:old@example.org"])
            }
            let viaNewKey = try await client.newAccount(key: newKey, onlyReturnExisting: true)
            #expect(viaNewKey.url == created.url)
            let stillNew = try await client.updateAccount(
                url: created.url, key: newKey, contact: ["mailto:n2@example.org"])
            #expect(stillNew.contact == ["mailto:n2@example.org"])

            let deactivated = try await client.deactivateAccount(url: created.url, key: newKey)
            #expect(deactivated.status == .deactivated)
            await #expect {
                try await client.updateAccount(url: created.url, key: newKey, contact: ["mailto:x@example.org"])
            } throws: { error in
                (error as? ACMEProblem)?.type == .unauthorized
            }
        }
    }

    @Test func onlyReturnExistingForUnknownKey() async throws {
        try await Self.withClient { _, client, _ in
            await #expect {
                try await client.newAccount(key: try .generate(.ecdsaP256), onlyReturnExisting: true)
            } throws: { error in
                (error as? ACMEProblem)?.type == .accountDoesNotExist
            }
        }
    }

    @Test func externalAccountBinding() async throws {
        try await Self.withClient { env, client, _ in
            let eab = try env.eab()
            let key = try SigningKey.generate(.ecdsaP256)
            let result = try await client.newAccount(key: key, contact: ["mailto:eab@example.org"], eab: eab)
            #expect(result.created)
            let wrong = try SigningKey.generate(.ecdsaP256)
            await #expect(throws: ACMEProblem.self) {
                try await client.newAccount(key: wrong, eab: (eab.keyID, Array(repeating: 7, count: 32)))
            }
        }
    }

    @Test func issueWithHTTP01VerifyDownloadRevoke() async throws {
        try await Self.withClient { env, client, _ in
            let responder = try await PebbleHTTP01Responder.start(port: env.httpPort)
            do {
                try await Self.issue(env: env, client: client, responder: responder)
            } catch {
                try? await responder.stop()
                throw error
            }
            try await responder.stop()
        }
    }

    static func issue(env: PebbleEnvironment, client: ACMEClient, responder: PebbleHTTP01Responder) async throws {
        let accountKey = try SigningKey.generate(.ecdsaP256)
        let account = try await client.newAccount(key: accountKey, contact: ["mailto:issue@example.org"]).url
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let names = ["h1-\(suffix).example.test", "www.h1-\(suffix).example.test"]
        let (orderURL, order) = try await client.newOrder(accountURL: account, key: accountKey, identifiers: names)
        #expect(order.status == .pending)
        #expect(Set(order.identifiers.map(\.value)) == Set(names))

        for authzURL in order.authorizations {
            let authz = try await client.fetchAuthorization(url: authzURL, accountURL: account, key: accountKey)
            if authz.status == .valid { continue }
            let challenge = try #require(authz.challenge(ofType: Challenge.http01))
            let token = try #require(challenge.token)
            #expect(TokenValidation.isBase64URLToken(token))
            responder.set(
                token: token, keyAuthorization: KeyAuthorization.make(token: token, jwk: accountKey.publicJWK))
            try await client.respond(toChallenge: challenge.url, accountURL: account, key: accountKey)
            let final = try await client.pollAuthorization(
                url: authzURL,
                accountURL: account,
                key: accountKey,
                timeout: .seconds(30)
            )
            #expect(final.status == .valid, "\(final.challenges.compactMap(\.error))")
        }

        let ready = try await client.pollOrder(
            url: orderURL,
            accountURL: account,
            key: accountKey,
            until: [.ready, .valid],
            timeout: .seconds(30)
        )
        #expect(ready.status == .ready)
        let certKey = try SigningKey.generate(.ecdsaP256)
        _ = try await client.finalize(
            finalizeURL: ready.finalize,
            accountURL: account,
            key: accountKey,
            csrDER: try CSRBuilder.derCSR(domains: names, key: certKey)
        )
        let valid = try await client.pollOrder(
            url: orderURL,
            accountURL: account,
            key: accountKey,
            until: [.valid],
            timeout: .seconds(30)
        )
        let certificateURL = try #require(valid.certificate)
        let download = try await client.downloadCertificate(url: certificateURL, accountURL: account, key: accountKey)
        let chain = try CertificateChain(pem: download.pem)
        try chain.verify(expectedKey: certKey, expectedNames: names, now: Date())
        #expect(throws: CertificateChainError.leafKeyMismatch) {
            try chain.verify(expectedKey: accountKey, expectedNames: names, now: Date())
        }
        let info = try CertificateInfo(certificate: chain.leaf)
        #expect(info.keyType == .ecdsaP256)
        #expect(!(try ARICertID.make(for: chain.leaf)).isEmpty)

        if let roots = env.rootsPEMFile {
            try Self.opensslVerify(chain: chain, roots: roots)
        }

        let leafDER = try chain.leaf.serializeAsPEM().derBytes
        try await client.revoke(certificateDER: leafDER, reason: 4, accountURL: account, key: accountKey)
        await #expect {
            try await client.revoke(certificateDER: leafDER, reason: 4, accountURL: account, key: accountKey)
        } throws: { error in
            (error as? ACMEProblem)?.type == .alreadyRevoked
        }
        try await client.deactivateAccount(url: account, key: accountKey)
    }

    static func opensslVerify(chain: CertificateChain, roots: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("h1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let leaf = directory.appendingPathComponent("leaf.pem")
        let intermediates = directory.appendingPathComponent("chain.pem")
        try chain.leaf.serializeAsPEM().pemString.write(to: leaf, atomically: true, encoding: .utf8)
        try chain.intermediates.map { try $0.serializeAsPEM().pemString }.joined(separator: "\n")
            .write(to: intermediates, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["verify", "-CAfile", roots, "-untrusted", intermediates.path, leaf.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "openssl verify: \(output)")
        #expect(output.contains(": OK"))
    }
}
