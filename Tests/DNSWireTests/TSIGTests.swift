import Foundation
import Testing

@testable import DNSWire

@Suite struct TSIGTests {
    let key = TSIGKey(name: try! DNSName("acme-key"), algorithm: .hmacSHA256, secret: Array(0..<32))
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func update() throws -> DNSMessage {
        DNSMessage.update(
            id: 0x4242,
            zone: try DNSName("example.test"),
            updates: [
                DNSResourceRecord(
                    name: try DNSName("_acme-challenge.example.test"), type: .txt, ttl: 60, rdata: .txt(["v"]))
            ]
        )
    }

    @Test(arguments: TSIGAlgorithm.allCases)
    func signedRequestVerifiesAndCarriesTheTSIGLast(algorithm: TSIGAlgorithm) throws {
        let key = TSIGKey(name: self.key.name, algorithm: algorithm, secret: self.key.secret)
        let signed = try TSIG.sign(try update(), with: key, now: now)
        #expect(signed.mac.count == algorithm.macLength)
        let decoded = try TSIG.verifyRequest(signed.wire, key: key)
        #expect(decoded.additionals.count == 1)
        let record = try #require(decoded.tsig)
        #expect(record.timeSigned == 1_700_000_000)
        #expect(record.fudge == 300)
        #expect(record.originalID == 0x4242)
        #expect(record.algorithm.description == "\(algorithm.rawValue).")
        #expect(decoded.additionals[0].recordClass == .any)
    }

    @Test func tamperedRequestOrWrongSecretFails() throws {
        let signed = try TSIG.sign(try update(), with: key, now: now)
        var tampered = try DNSMessage(decoding: signed.wire)
        tampered.authorities[0].rdata = .txt(["w"])
        #expect(throws: TSIGError.badSignature) { try TSIG.verifyRequest(try tampered.encode(), key: key) }
        let other = TSIGKey(name: key.name, secret: Array(repeating: 7, count: 32))
        #expect(throws: TSIGError.badSignature) { try TSIG.verifyRequest(signed.wire, key: other) }
    }

    /// The MAC is over the canonical (lowercase) key name, so the key name's case does not matter.
    @Test func keyNameCaseDoesNotChangeTheMAC() throws {
        let upper = TSIGKey(name: try DNSName("ACME-Key."), secret: key.secret)
        #expect(
            try TSIG.sign(try update(), with: upper, now: now).mac
                == (try TSIG.sign(try update(), with: key, now: now).mac))
    }

    @Test func responseVerification() throws {
        let signed = try TSIG.sign(try update(), with: key, now: now)
        var response = try update()
        response.isResponse = true
        let wire = try TSIG.signResponse(response, requestMAC: signed.mac, with: key, now: now)
        let verified = try TSIG.verifyResponse(wire, to: signed, now: now.addingTimeInterval(299))
        #expect(verified.isResponse)

        #expect(throws: TSIGError.badTime(signed: 1_700_000_000, now: 1_700_000_301)) {
            try TSIG.verifyResponse(wire, to: signed, now: now.addingTimeInterval(301))
        }
        // A response MAC chained to another request MAC must not verify.
        let otherRequest = try TSIG.sign(try update(), with: key, now: now.addingTimeInterval(1))
        #expect(throws: TSIGError.badSignature) { try TSIG.verifyResponse(wire, to: otherRequest, now: now) }
        #expect(throws: TSIGError.unsigned(rcode: .notAuth)) {
            var unsigned = response
            unsigned.rcode = .notAuth
            return try TSIG.verifyResponse(try unsigned.encode(), to: signed, now: now)
        }
    }

    @Test func serverSideTSIGErrorsAreReported() throws {
        let signed = try TSIG.sign(try update(), with: key, now: now)
        var response = try update()
        response.isResponse = true
        response.rcode = .notAuth
        response.additionals = [
            DNSResourceRecord(
                name: key.name,
                type: .tsig,
                recordClass: .any,
                ttl: 0,
                rdata: .tsig(
                    TSIGRecord(
                        algorithm: key.algorithm.dnsName, timeSigned: 1, fudge: 300, mac: [], originalID: 0x4242,
                        error: .badSig))
            )
        ]
        #expect(throws: TSIGError.rejectedByServer(error: .badSig, rcode: .notAuth)) {
            try TSIG.verifyResponse(try response.encode(), to: signed, now: now)
        }
    }
}
