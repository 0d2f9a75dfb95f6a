import Testing

@testable import DNSWire

@Suite struct DNSNameTests {
    @Test func trailingDotIsOptionalAndComparisonIgnoresCase() throws {
        let a = try DNSName("_acme-challenge.Example.TEST")
        let b = try DNSName("_acme-challenge.example.test.")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a.description == "_acme-challenge.Example.TEST.")
        #expect(a.labels.count == 3)
    }

    @Test func canonicalWireIsLowercaseAndUncompressed() throws {
        let name = try DNSName("Ab.Example.")
        #expect(name.wire == [2, 65, 98, 7] + Array("Example".utf8) + [0])
        #expect(name.canonicalWire == [2, 97, 98, 7] + Array("example".utf8) + [0])
        #expect(DNSName.root.wire == [0])
        #expect(try DNSName(".") == .root)
    }

    @Test func rejectsBadNames() {
        #expect(throws: DNSWireError.self) { try DNSName("") }
        #expect(throws: DNSWireError.self) { try DNSName("a..b") }
        #expect(throws: DNSWireError.self) { try DNSName(String(repeating: "x", count: 64) + ".test") }
        #expect(throws: DNSWireError.self) { try DNSName("has space.test") }
        let long = Array(repeating: String(repeating: "x", count: 63), count: 4).joined(separator: ".")
        #expect(throws: DNSWireError.self) { try DNSName(long) }
    }

    @Test func subdomainsAndParents() throws {
        let name = try DNSName("_acme-challenge.www.example.test")
        #expect(name.isSubdomain(of: try DNSName("EXAMPLE.test")))
        #expect(name.isSubdomain(of: name))
        #expect(!name.isSubdomain(of: try DNSName("ample.test")))
        #expect(name.parent == (try DNSName("www.example.test")))
        #expect(DNSName.root.parent == nil)
        #expect(
            try DNSName("example.test").prepending("_acme-challenge") == (try DNSName("_acme-challenge.example.test")))
    }

    @Test func serverAddresses() throws {
        #expect(try DNSServerAddress("127.0.0.1:5353") == DNSServerAddress(host: "127.0.0.1", port: 5353))
        #expect(try DNSServerAddress("ns1.example.test") == DNSServerAddress(host: "ns1.example.test", port: 53))
        #expect(try DNSServerAddress("[::1]:5300") == DNSServerAddress(host: "::1", port: 5300))
        #expect(try DNSServerAddress("::1") == DNSServerAddress(host: "::1", port: 53))
        #expect(DNSServerAddress(host: "::1", port: 53).description == "[::1]:53")
        #expect(throws: DNSClientError.self) { try DNSServerAddress("host:99999") }
        #expect(throws: DNSClientError.self) { try DNSServerAddress("[::1") }
    }
}
