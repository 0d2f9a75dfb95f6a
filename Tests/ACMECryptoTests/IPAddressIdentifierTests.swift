import ACMECrypto
import SwiftASN1
import Testing
import X509

/// IP address identifiers (RFC 8738): their text forms, reverse names and place in a CSR.
@Suite struct IPAddressIdentifierTests {
    @Test func addressesAreParsedAndWrittenCanonically() {
        #expect(IPAddressText.bytes("127.0.0.1") == [127, 0, 0, 1])
        #expect(IPAddressText.canonical("0:0:0:0:0:0:0:1") == "::1")
        #expect(IPAddressText.canonical("2001:DB8:0:0:0:0:0:1") == "2001:db8::1")
        #expect(IPAddressText.canonical("192.0.2.7") == "192.0.2.7")
        for notAnAddress in ["1.2.3", "1.2.3.4.5", "256.1.1.1", "[::1]", "::1%eth0", "10.0.0.0/8", "example.com", ""] {
            #expect(IPAddressText.bytes(notAnAddress) == nil, "\(notAnAddress)")
        }
    }

    /// RFC 8738 §6: the reverse-DNS name a CA sends in SNI for tls-alpn-01.
    @Test func reverseNamesFollowRFC8738() throws {
        #expect(IPAddressText.reverseName([192, 0, 2, 1]) == "1.2.0.192.in-addr.arpa")
        let v6 = try #require(IPAddressText.bytes("2001:db8::567:89ab"))
        #expect(
            IPAddressText.reverseName(v6) == "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")
    }

    @Test func csrCarriesAddressesAsIPAddressNamesAndADNSNameAsCN() throws {
        let key = try SigningKey.generate(.ecdsaP256)
        let csr = try CertificateSigningRequest(
            derEncoded: try CSRBuilder.derCSR(domains: ["127.0.0.1", "www.example.org", "::1"], key: key))
        let sans = try #require(try csr.attributes.extensionRequest?.extensions.subjectAlternativeNames)
        #expect(
            Array(sans) == [
                .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])), .dnsName("www.example.org"),
                .ipAddress(ASN1OctetString(contentBytes: ([UInt8](repeating: 0, count: 15) + [1])[...])),
            ])
        #expect(csr.subject.description == "CN=www.example.org")
        let onlyAddress = try CertificateSigningRequest(
            derEncoded: try CSRBuilder.derCSR(domains: ["192.0.2.1"], key: key))
        #expect(onlyAddress.subject.description == "")
    }
}
