/// The RDATA of a TSIG RR (RFC 8945 §4.2).
package struct TSIGRecord: Sendable, Hashable, CustomStringConvertible {
    /// Algorithm name, e.g. `hmac-sha256.`.
    package var algorithm: DNSName
    /// Seconds since the Unix epoch (48 bits).
    package var timeSigned: UInt64
    /// Permitted clock skew in seconds (300 is customary).
    package var fudge: UInt16
    package var mac: [UInt8]
    /// The message ID of the message as originally signed.
    package var originalID: UInt16
    /// The TSIG Error field: NOERROR, BADSIG, BADKEY, BADTIME, BADTRUNC.
    package var error: DNSResponseCode
    package var otherData: [UInt8]

    package init(
        algorithm: DNSName,
        timeSigned: UInt64,
        fudge: UInt16,
        mac: [UInt8],
        originalID: UInt16,
        error: DNSResponseCode = .noError,
        otherData: [UInt8] = []
    ) {
        self.algorithm = algorithm
        self.timeSigned = timeSigned
        self.fudge = fudge
        self.mac = mac
        self.originalID = originalID
        self.error = error
        self.otherData = otherData
    }

    /// Shows the fields but only the MAC length (a MAC is not secret, but it is noise in logs).
    package var description: String {
        "TSIG(\(algorithm) time=\(timeSigned) fudge=\(fudge) mac=\(mac.count) bytes id=\(originalID) error=\(error))"
    }

    func encode() -> [UInt8] {
        var out = algorithm.canonicalWire
        out.appendU48(timeSigned)
        out.appendU16(fudge)
        out.appendU16(UInt16(mac.count))
        out.append(contentsOf: mac)
        out.appendU16(originalID)
        out.appendU16(error.rawValue)
        out.appendU16(UInt16(otherData.count))
        out.append(contentsOf: otherData)
        return out
    }

    static func decode(from reader: inout DNSWireReader, end: Int) throws -> TSIGRecord {
        let algorithm = try reader.name()
        let timeSigned = try reader.u48()
        let fudge = try reader.u16()
        let mac = try reader.take(Int(try reader.u16()))
        let originalID = try reader.u16()
        let error = DNSResponseCode(rawValue: try reader.u16())
        let otherData = try reader.take(Int(try reader.u16()))
        guard reader.offset <= end else {
            throw DNSWireError.badRData(type: .tsig, offset: end, reason: "fields overrun RDLENGTH")
        }
        return TSIGRecord(
            algorithm: algorithm,
            timeSigned: timeSigned,
            fudge: fudge,
            mac: mac,
            originalID: originalID,
            error: error,
            otherData: otherData
        )
    }
}
