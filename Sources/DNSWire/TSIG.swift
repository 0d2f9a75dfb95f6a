import Foundation

/// A request with its TSIG appended, plus the MAC needed to verify the response.
package struct TSIGSignedRequest: Sendable, Hashable {
    /// The wire message including the TSIG RR.
    package var wire: [UInt8]
    /// The request MAC; the response MAC covers it (RFC 8945 §4.3.1).
    package var mac: [UInt8]
    package var key: TSIGKey
}

/// TSIG signing and verification (RFC 8945 §4.3 and §5.3).
package enum TSIG {
    /// Signs `message` (RFC 8945 §4.3.3): MAC over the unsigned wire message plus the TSIG variables,
    /// then appends the TSIG RR as the last additional record.
    ///
    /// - Parameters:
    ///   - now: the Time Signed; injected so tests are deterministic.
    ///   - fudge: permitted skew in seconds (300 as RFC 8945 recommends).
    package static func sign(
        _ message: DNSMessage,
        with key: TSIGKey,
        now: Date,
        fudge: UInt16 = 300
    ) throws -> TSIGSignedRequest {
        let unsigned = try message.encode()
        var record = TSIGRecord(
            algorithm: key.algorithm.dnsName,
            timeSigned: UInt64(max(0, now.timeIntervalSince1970.rounded(.down))),
            fudge: fudge,
            mac: [],
            originalID: message.id
        )
        record.mac = key.algorithm.mac(unsigned + variables(key: key, record: record), secret: key.secret)
        var signed = message
        signed.additionals.append(
            DNSResourceRecord(name: key.name, type: .tsig, recordClass: .any, ttl: 0, rdata: .tsig(record))
        )
        return TSIGSignedRequest(wire: try signed.encode(), mac: record.mac, key: key)
    }

    /// Verifies a response to a signed request (RFC 8945 §4.3.1, §5.3) and returns it decoded.
    ///
    /// - Throws: ``TSIGError``: `.unsigned` when the server sent no TSIG (then `rcode` tells why, typically
    ///   NOTAUTH or REFUSED), `.rejectedByServer` when the TSIG Error field is set (BADSIG, BADKEY, BADTIME),
    ///   `.badSignature`/`.badTime`/`.wrongKey` when this client rejects the server's signature.
    package static func verifyResponse(_ wire: [UInt8], to request: TSIGSignedRequest, now: Date) throws -> DNSMessage {
        let (message, lastOffset) = try DNSMessage.decodeLocatingLastRecord(wire)
        guard let record = message.tsig, let lastOffset, let owner = message.additionals.last?.name else {
            throw TSIGError.unsigned(rcode: message.rcode)
        }
        guard record.error == .noError else {
            throw TSIGError.rejectedByServer(error: record.error, rcode: message.rcode)
        }
        let key = request.key
        guard owner == key.name, record.algorithm == key.algorithm.dnsName else {
            throw TSIGError.wrongKey(name: owner, algorithm: record.algorithm)
        }
        guard record.mac.count == key.algorithm.macLength else { throw TSIGError.badSignature }
        var covered: [UInt8] = []
        covered.appendU16(UInt16(request.mac.count))
        covered.append(contentsOf: request.mac)
        var stripped = Array(wire[..<lastOffset])
        stripped[0] = UInt8(record.originalID >> 8)
        stripped[1] = UInt8(record.originalID & 0xFF)
        let arcount = (UInt16(stripped[10]) << 8 | UInt16(stripped[11])) - 1
        stripped[10] = UInt8(arcount >> 8)
        stripped[11] = UInt8(arcount & 0xFF)
        covered.append(contentsOf: stripped)
        covered.append(contentsOf: variables(key: key, record: record))
        guard key.algorithm.isValid(mac: record.mac, for: covered, secret: key.secret) else {
            throw TSIGError.badSignature
        }
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        guard abs(nowSeconds - Int64(record.timeSigned)) <= Int64(record.fudge) else {
            throw TSIGError.badTime(signed: record.timeSigned, now: nowSeconds)
        }
        return message
    }

    /// Signs a response to a request whose MAC was `requestMAC` (RFC 8945 §4.3.1), as a server does;
    /// for mock servers and tests.
    package static func signResponse(
        _ message: DNSMessage,
        requestMAC: [UInt8],
        with key: TSIGKey,
        now: Date,
        fudge: UInt16 = 300
    ) throws -> [UInt8] {
        var record = TSIGRecord(
            algorithm: key.algorithm.dnsName,
            timeSigned: UInt64(max(0, now.timeIntervalSince1970.rounded(.down))),
            fudge: fudge,
            mac: [],
            originalID: message.id
        )
        var covered: [UInt8] = []
        covered.appendU16(UInt16(requestMAC.count))
        covered.append(contentsOf: requestMAC)
        covered.append(contentsOf: try message.encode())
        covered.append(contentsOf: variables(key: key, record: record))
        record.mac = key.algorithm.mac(covered, secret: key.secret)
        var signed = message
        signed.additionals.append(
            DNSResourceRecord(name: key.name, type: .tsig, recordClass: .any, ttl: 0, rdata: .tsig(record))
        )
        return try signed.encode()
    }

    /// Verifies a signed request the way a server would; used by tests and mock servers.
    package static func verifyRequest(_ wire: [UInt8], key: TSIGKey) throws -> DNSMessage {
        let (message, lastOffset) = try DNSMessage.decodeLocatingLastRecord(wire)
        guard let record = message.tsig, let lastOffset else { throw TSIGError.unsigned(rcode: message.rcode) }
        var stripped = Array(wire[..<lastOffset])
        stripped[0] = UInt8(record.originalID >> 8)
        stripped[1] = UInt8(record.originalID & 0xFF)
        let arcount = (UInt16(stripped[10]) << 8 | UInt16(stripped[11])) - 1
        stripped[10] = UInt8(arcount >> 8)
        stripped[11] = UInt8(arcount & 0xFF)
        guard
            key.algorithm.isValid(
                mac: record.mac, for: stripped + variables(key: key, record: record), secret: key.secret)
        else { throw TSIGError.badSignature }
        return message
    }

    /// The TSIG variables (RFC 8945 §4.3.3): key name, CLASS, TTL, algorithm, time, fudge, error, other.
    static func variables(key: TSIGKey, record: TSIGRecord) -> [UInt8] {
        var out = key.name.canonicalWire
        out.appendU16(DNSClass.any.rawValue)
        out.appendU32(0)
        out.append(contentsOf: record.algorithm.canonicalWire)
        out.appendU48(record.timeSigned)
        out.appendU16(record.fudge)
        out.appendU16(record.error.rawValue)
        out.appendU16(UInt16(record.otherData.count))
        out.append(contentsOf: record.otherData)
        return out
    }
}

/// Why a TSIG exchange failed. Never carries key material.
package enum TSIGError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The response has no TSIG record; `rcode` is the response RCODE.
    case unsigned(rcode: DNSResponseCode)
    /// The server set the TSIG Error field (BADSIG, BADKEY, BADTIME, BADTRUNC); `rcode` is usually NOTAUTH.
    case rejectedByServer(error: DNSResponseCode, rcode: DNSResponseCode)
    /// The response MAC does not verify with our key.
    case badSignature
    /// The response was signed outside the fudge window.
    case badTime(signed: UInt64, now: Int64)
    /// The response was signed with another key name or algorithm.
    case wrongKey(name: DNSName, algorithm: DNSName)

    package var description: String {
        switch self {
        case .unsigned(let rcode): return "response is not TSIG-signed (RCODE \(rcode))"
        case .rejectedByServer(let error, let rcode):
            return "server rejected the TSIG signature: \(error) (RCODE \(rcode))"
        case .badSignature: return "response TSIG MAC does not verify"
        case .badTime(let signed, let now): return "response signed at \(signed), local time \(now): clock skew?"
        case .wrongKey(let name, let algorithm): return "response signed with key \(name) (\(algorithm))"
        }
    }
}
