/// One resource record (RFC 1035 §4.1.3), or an RFC 2136 update/prerequisite entry of the same shape.
package struct DNSResourceRecord: Sendable, Hashable {
    package var name: DNSName
    package var type: DNSRecordType
    package var recordClass: DNSClass
    package var ttl: UInt32
    package var rdata: DNSRData

    package init(name: DNSName, type: DNSRecordType, recordClass: DNSClass = .in, ttl: UInt32, rdata: DNSRData) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.rdata = rdata
    }

    /// The TXT strings when this is a TXT record, else nil.
    package var txtStrings: [String]? {
        if case .txt(let strings) = rdata { return strings }
        return nil
    }

    func encode(into out: inout [UInt8]) throws {
        out.append(contentsOf: name.wire)
        out.appendU16(type.rawValue)
        out.appendU16(recordClass.rawValue)
        out.appendU32(ttl)
        let body = try rdata.encode()
        guard body.count <= Int(UInt16.max) else { throw DNSWireError.unencodable(reason: "RDATA too long") }
        out.appendU16(UInt16(body.count))
        out.append(contentsOf: body)
    }

    static func decode(from reader: inout DNSWireReader) throws -> DNSResourceRecord {
        let name = try reader.name()
        let type = DNSRecordType(rawValue: try reader.u16())
        let recordClass = DNSClass(rawValue: try reader.u16())
        let ttl = try reader.u32()
        let length = Int(try reader.u16())
        let rdata = try DNSRData.decode(type: type, length: length, from: &reader)
        return DNSResourceRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, rdata: rdata)
    }
}

/// A question entry (RFC 1035 §4.1.2); in an UPDATE it is the zone entry (RFC 2136 §2.3).
package struct DNSQuestion: Sendable, Hashable {
    package var name: DNSName
    package var type: DNSRecordType
    package var questionClass: DNSClass

    package init(name: DNSName, type: DNSRecordType, questionClass: DNSClass = .in) {
        self.name = name
        self.type = type
        self.questionClass = questionClass
    }
}
