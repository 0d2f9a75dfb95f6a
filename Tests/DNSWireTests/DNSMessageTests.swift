import Testing

@testable import DNSWire

@Suite struct DNSMessageTests {
    @Test func queryHasKnownWireBytes() throws {
        let query = DNSMessage.query(id: 0x1234, name: try DNSName("example.test"), type: .a, recursionDesired: true)
        let expected: [UInt8] =
            [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
            + [7] + Array("example".utf8) + [4] + Array("test".utf8) + [0]
            + [0, 1, 0, 1]
        #expect(try query.encode() == expected)
        #expect(try DNSMessage(decoding: expected) == query)
    }

    @Test func updateUsesOpcode5AndClassNoneForSingleDelete() throws {
        let zone = try DNSName("example.test")
        let record = DNSResourceRecord(
            name: try DNSName("_acme-challenge.example.test"),
            type: .txt,
            recordClass: .none,
            ttl: 0,
            rdata: .txt(["abc"])
        )
        let wire = try DNSMessage.update(id: 7, zone: zone, updates: [record]).encode()
        #expect(wire[2] == 0x28)  // QR=0, opcode 5
        #expect(Array(wire[4..<12]) == [0, 1, 0, 0, 0, 1, 0, 0])
        // Update RR: ... TYPE 16, CLASS 254, TTL 0, RDLENGTH 4, "\u{3}abc"
        #expect(Array(wire.suffix(14)) == [0, 16, 0, 254, 0, 0, 0, 0, 0, 4, 3] + Array("abc".utf8))
        let decoded = try DNSMessage(decoding: wire)
        #expect(decoded.opcode == .update)
        #expect(decoded.zone == DNSQuestion(name: zone, type: .soa))
        #expect(decoded.updates == [record])
    }

    /// A name server's addresses: IPv4 first, IPv6 (as text) only when it has no IPv4 address.
    @Test func nameServerAddressesPreferIPv4ThenIPv6() throws {
        let ns = try DNSName("ns.example.test")
        let v6 = DNSResourceRecord(
            name: ns, type: .aaaa, ttl: 60,
            rdata: .aaaa([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]))
        let v4 = DNSResourceRecord(name: ns, type: .a, ttl: 60, rdata: .a([192, 0, 2, 53]))
        let other = DNSResourceRecord(name: try DNSName("other.test"), type: .a, ttl: 60, rdata: .a([192, 0, 2, 1]))
        #expect(PropagationChecker.addresses(in: [v6, other], owner: ns) == ["2001:db8::1"])
        #expect(PropagationChecker.addresses(in: [v6, v4], owner: ns) == ["192.0.2.53"])
        #expect(PropagationChecker.addresses(in: [other], owner: ns) == [])
    }

    @Test func roundTripsAllRecordTypes() throws {
        let zone = try DNSName("example.test")
        let message = DNSMessage(
            id: 0xBEEF,
            isResponse: true,
            authoritativeAnswer: true,
            rcode: .nxDomain,
            questions: [DNSQuestion(name: zone, type: .any)],
            answers: [
                DNSResourceRecord(name: zone, type: .a, ttl: 60, rdata: .a([127, 0, 0, 1])),
                DNSResourceRecord(
                    name: zone, type: .aaaa, ttl: 60,
                    rdata: .aaaa([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])),
                DNSResourceRecord(
                    name: zone, type: .txt, ttl: 60, rdata: .txt(["one", "", String(repeating: "x", count: 255)])),
            ],
            authorities: [
                DNSResourceRecord(name: zone, type: .ns, ttl: 3600, rdata: .ns(try DNSName("ns.example.test"))),
                DNSResourceRecord(
                    name: zone,
                    type: .soa,
                    ttl: 60,
                    rdata: .soa(
                        .init(
                            mname: try DNSName("ns.example.test"),
                            rname: try DNSName("hostmaster.example.test"),
                            serial: 2_024_010_101,
                            refresh: 3600,
                            retry: 600,
                            expire: 86400,
                            minimum: 60
                        )
                    )
                ),
            ],
            additionals: [
                DNSResourceRecord(name: zone, type: DNSRecordType(rawValue: 99), ttl: 1, rdata: .raw([1, 2, 3])),
                DNSResourceRecord(
                    name: try DNSName("key.test"),
                    type: .tsig,
                    recordClass: .any,
                    ttl: 0,
                    rdata: .tsig(
                        TSIGRecord(
                            algorithm: TSIGAlgorithm.hmacSHA256.dnsName,
                            timeSigned: 0x0000_1234_5678,
                            fudge: 300,
                            mac: Array(repeating: 0xAB, count: 32),
                            originalID: 0xBEEF,
                            error: .badTime,
                            otherData: [0, 0, 0x12, 0x34, 0x56, 0x79]
                        )
                    )
                ),
            ]
        )
        let decoded = try DNSMessage(decoding: try message.encode())
        #expect(decoded == message)
        #expect(decoded.tsig?.error == .badTime)
        #expect(decoded.tsig?.timeSigned == 0x1234_5678)
    }

    @Test func rejectsTooLongTXTString() throws {
        let record = DNSResourceRecord(
            name: try DNSName("t.test"),
            type: .txt,
            ttl: 1,
            rdata: .txt([String(repeating: "x", count: 256)])
        )
        #expect(throws: DNSWireError.self) { try DNSMessage(id: 1, answers: [record]).encode() }
    }

    /// A response as a server writes it: the answer's owner and the NS target use compression pointers.
    @Test func decodesCompressedNames() throws {
        var wire: [UInt8] = [0xAB, 0xCD, 0x84, 0x00, 0, 1, 0, 2, 0, 0, 0, 0]
        wire += [7] + Array("example".utf8) + [4] + Array("test".utf8) + [0]  // at offset 12
        wire += [0, 2, 0, 1]
        // NS answer: owner = pointer to 12; RDATA "ns" + pointer to 12
        wire += [0xC0, 12, 0, 2, 0, 1, 0, 0, 0x0E, 0x10, 0, 5, 2] + Array("ns".utf8) + [0xC0, 12]
        // TXT answer at "_acme-challenge" + pointer, two strings
        wire += [15] + Array("_acme-challenge".utf8) + [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 6]
        wire += [2] + Array("ab".utf8) + [2] + Array("cd".utf8)
        let message = try DNSMessage(decoding: wire)
        #expect(message.isResponse && message.authoritativeAnswer)
        #expect(message.answers[0].rdata == .ns(try DNSName("ns.example.test")))
        #expect(message.answers[1].name == (try DNSName("_acme-challenge.example.test")))
        #expect(message.answers[1].txtStrings == ["ab", "cd"])
    }

    @Test func rejectsPointerLoopsAndTruncation() throws {
        let header: [UInt8] = [0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        #expect(throws: DNSWireError.badPointer(offset: 12)) {
            try DNSMessage(decoding: header + [0xC0, 12, 0, 1, 0, 1])
        }
        #expect(throws: DNSWireError.badPointer(offset: 12)) {
            try DNSMessage(decoding: header + [0xC0, 20, 0, 1, 0, 1])
        }
        #expect(throws: DNSWireError.self) { try DNSMessage(decoding: header + [3, 97, 98]) }
        #expect(throws: DNSWireError.self) { try DNSMessage(decoding: Array(header.prefix(5))) }
        #expect(throws: DNSWireError.self) { try DNSMessage(decoding: header + [0, 0, 1, 0, 1, 9]) }
    }
}
