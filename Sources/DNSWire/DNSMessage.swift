/// A DNS message (RFC 1035 §4.1): header, question, answer, authority and additional sections.
///
/// For UPDATE messages (RFC 2136 §2) the same sections hold the zone, prerequisite, update and additional
/// entries; see ``zone``, ``prerequisites`` and ``updates``. Encoding writes names uncompressed; decoding
/// follows compression pointers.
package struct DNSMessage: Sendable, Hashable {
    package var id: UInt16
    /// QR: true in responses.
    package var isResponse: Bool
    package var opcode: DNSOpcode
    package var authoritativeAnswer: Bool
    /// TC: the UDP response was cut; repeat the query over TCP.
    package var truncated: Bool
    package var recursionDesired: Bool
    package var recursionAvailable: Bool
    /// The 4-bit header RCODE.
    package var rcode: DNSResponseCode
    package var questions: [DNSQuestion]
    package var answers: [DNSResourceRecord]
    package var authorities: [DNSResourceRecord]
    package var additionals: [DNSResourceRecord]

    package init(
        id: UInt16,
        isResponse: Bool = false,
        opcode: DNSOpcode = .query,
        authoritativeAnswer: Bool = false,
        truncated: Bool = false,
        recursionDesired: Bool = false,
        recursionAvailable: Bool = false,
        rcode: DNSResponseCode = .noError,
        questions: [DNSQuestion] = [],
        answers: [DNSResourceRecord] = [],
        authorities: [DNSResourceRecord] = [],
        additionals: [DNSResourceRecord] = []
    ) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode
        self.authoritativeAnswer = authoritativeAnswer
        self.truncated = truncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.rcode = rcode
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    /// A standard query for one name and type.
    package static func query(
        id: UInt16,
        name: DNSName,
        type: DNSRecordType,
        recursionDesired: Bool
    ) -> DNSMessage {
        DNSMessage(id: id, recursionDesired: recursionDesired, questions: [DNSQuestion(name: name, type: type)])
    }

    /// An UPDATE (RFC 2136) for `zone` carrying `updates`.
    package static func update(id: UInt16, zone: DNSName, updates: [DNSResourceRecord]) -> DNSMessage {
        DNSMessage(id: id, opcode: .update, questions: [DNSQuestion(name: zone, type: .soa)], authorities: updates)
    }

    /// UPDATE zone section (RFC 2136 §2.3): the question section.
    package var zone: DNSQuestion? { questions.first }
    /// UPDATE prerequisite section (RFC 2136 §2.4): the answer section.
    package var prerequisites: [DNSResourceRecord] { answers }
    /// UPDATE update section (RFC 2136 §2.5): the authority section.
    package var updates: [DNSResourceRecord] { authorities }

    /// The TSIG record when it is the last additional record (RFC 8945 §4.2).
    package var tsig: TSIGRecord? {
        guard let last = additionals.last, last.type == .tsig, case .tsig(let record) = last.rdata else { return nil }
        return record
    }

    /// Wire form without compression.
    package func encode() throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.appendU16(id)
        var flags: UInt16 = 0
        if isResponse { flags |= 0x8000 }
        flags |= UInt16(opcode.rawValue & 0x0F) << 11
        if authoritativeAnswer { flags |= 0x0400 }
        if truncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        flags |= rcode.rawValue & 0x000F
        out.appendU16(flags)
        for count in [questions.count, answers.count, authorities.count, additionals.count] {
            guard count <= Int(UInt16.max) else { throw DNSWireError.unencodable(reason: "section too large") }
            out.appendU16(UInt16(count))
        }
        for question in questions {
            out.append(contentsOf: question.name.wire)
            out.appendU16(question.type.rawValue)
            out.appendU16(question.questionClass.rawValue)
        }
        for record in answers + authorities + additionals { try record.encode(into: &out) }
        return out
    }

    /// Parses a whole message; trailing bytes are rejected.
    package init(decoding bytes: [UInt8]) throws {
        self = try Self.decodeLocatingLastRecord(bytes).message
    }

    /// Decodes and also returns the byte offset where the last additional record starts (for TSIG).
    static func decodeLocatingLastRecord(_ bytes: [UInt8]) throws -> (message: DNSMessage, lastAdditionalOffset: Int?) {
        var reader = DNSWireReader(bytes)
        let id = try reader.u16()
        let flags = try reader.u16()
        let counts = [try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16()].map(Int.init)
        var message = DNSMessage(
            id: id,
            isResponse: flags & 0x8000 != 0,
            opcode: DNSOpcode(rawValue: UInt8((flags >> 11) & 0x0F)),
            authoritativeAnswer: flags & 0x0400 != 0,
            truncated: flags & 0x0200 != 0,
            recursionDesired: flags & 0x0100 != 0,
            recursionAvailable: flags & 0x0080 != 0,
            rcode: DNSResponseCode(rawValue: flags & 0x000F)
        )
        for _ in 0..<counts[0] {
            let name = try reader.name()
            let type = DNSRecordType(rawValue: try reader.u16())
            let questionClass = DNSClass(rawValue: try reader.u16())
            message.questions.append(DNSQuestion(name: name, type: type, questionClass: questionClass))
        }
        for _ in 0..<counts[1] { message.answers.append(try DNSResourceRecord.decode(from: &reader)) }
        for _ in 0..<counts[2] { message.authorities.append(try DNSResourceRecord.decode(from: &reader)) }
        var lastOffset: Int? = nil
        for _ in 0..<counts[3] {
            lastOffset = reader.offset
            message.additionals.append(try DNSResourceRecord.decode(from: &reader))
        }
        guard reader.remaining == 0 else {
            throw DNSWireError.badRData(type: .any, offset: reader.offset, reason: "\(reader.remaining) trailing bytes")
        }
        return (message, lastOffset)
    }
}
