import DNSWire
import Foundation
import FuzzSupport

// The DNS message parser and TSIG verification.
//
// 1. Parse the input as a message. A parsed message that encodes must parse back to an equal message, and encoding
//    that must give the same bytes (names are written uncompressed, so the first encoding is canonical).
// 2. Verify the raw input as a TSIG-signed request and as a response to a fixed signed request: must not crash, and
//    must not succeed (the input cannot carry a MAC made with the fuzzer's secret unless it was built with it).
// 3. Sign the parsed message (as a request and as a response) with the fixed key: verification must succeed, and
//    must fail once any covered byte after the ID is flipped.

enum Keys {
    static let key = TSIGKey(
        name: try! DNSName("certkeeper-fuzz."), algorithm: .hmacSHA256, secret: Array("fuzz secret 0123456789".utf8))
    static let now = Date(timeIntervalSince1970: 1_767_225_600)
    static let request = try! TSIG.sign(
        DNSMessage.update(id: 0x1234, zone: try! DNSName("example.test."), updates: []), with: key, now: now)
}

func mustFail(_ what: String, _ body: () throws -> DNSMessage) {
    if let message = try? body() { fatalError("\(what) accepted a message the fuzzer could not sign: \(message)") }
}

func flipped(_ wire: [UInt8], coveredCount: Int, seed: [UInt8]) -> [UInt8] {
    // Bytes 0-1 (the ID) are replaced by the TSIG original ID before the MAC is computed, so they are not covered.
    let sum = seed.reduce(0) { ($0 &* 31 &+ Int($1)) & 0x7FFF_FFFF }
    var tampered = wire
    tampered[2 + sum % (coveredCount - 2)] ^= UInt8(1 << (seed.count % 8))
    return tampered
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNS(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)

    mustFail("verifyRequest") { try TSIG.verifyRequest(bytes, key: Keys.key) }
    mustFail("verifyResponse") { try TSIG.verifyResponse(bytes, to: Keys.request, now: Keys.now) }

    guard let message = try? DNSMessage(decoding: bytes) else { return 0 }
    _ = message.tsig?.description
    _ = message.questions.map(\.name.description)
    guard let encoded = try? message.encode() else { return 0 }
    guard let decoded = try? DNSMessage(decoding: encoded) else {
        fatalError("encoded message does not parse: \(message)")
    }
    Fuzz.check(decoded == message, "parse -> encode -> parse changed the message: \(message) vs \(decoded)")
    Fuzz.check((try? decoded.encode()) == encoded, "encoding is not stable for \(message)")

    guard message.additionals.count < Int(UInt16.max) else { return 0 }
    guard let signed = try? TSIG.sign(message, with: Keys.key, now: Keys.now) else { return 0 }
    guard let verified = try? TSIG.verifyRequest(signed.wire, key: Keys.key) else {
        fatalError("own signature does not verify (request): \(message)")
    }
    Fuzz.check(verified.additionals.dropLast() == message.additionals[...], "verified request differs: \(message)")
    mustFail("verifyRequest of a tampered request") {
        try TSIG.verifyRequest(flipped(signed.wire, coveredCount: encoded.count, seed: bytes), key: Keys.key)
    }

    guard let response = try? TSIG.signResponse(message, requestMAC: signed.mac, with: Keys.key, now: Keys.now) else {
        return 0
    }
    guard (try? TSIG.verifyResponse(response, to: signed, now: Keys.now)) != nil else {
        fatalError("own signature does not verify (response): \(message)")
    }
    mustFail("verifyResponse of a tampered response") {
        try TSIG.verifyResponse(
            flipped(response, coveredCount: encoded.count, seed: bytes), to: signed, now: Keys.now)
    }
    mustFail("verifyResponse too late") {
        try TSIG.verifyResponse(response, to: signed, now: Keys.now.addingTimeInterval(301))
    }
    return 0
}

let replayed: Void = FuzzReplay.run(CommandLine.arguments, fuzzDNS)
