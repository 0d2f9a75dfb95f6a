import ACMEModels
import Testing

@testable import Renewal

/// Orders and authorizations are held to the requested identifiers; an IP address is an `ip` identifier only.
@Suite struct RequestedNamesTests {
    let names = RequestedNames(names: ["www.example.test", "127.0.0.1", "::1"], ca: "https://ca.test/dir")

    func authorization(_ type: String, _ value: String, wildcard: Bool = false) -> Authorization {
        Authorization(
            identifier: Identifier(type: type, value: value), status: .pending, challenges: [],
            wildcard: wildcard ? true : nil)
    }

    @Test func ipIdentifiersMapToTheRequestedAddresses() throws {
        #expect(try names.name(for: authorization("ip", "127.0.0.1"), url: "u") == "127.0.0.1")
        // A CA may write an IPv6 address in another valid form.
        #expect(try names.name(for: authorization("ip", "0:0:0:0:0:0:0:1"), url: "u") == "::1")
        #expect(try names.name(for: authorization("dns", "WWW.example.test"), url: "u") == "www.example.test")
    }

    @Test func anAddressAsADNSNameOrAWildcardAddressIsRefused() {
        #expect(throws: IssueError.self) { try names.name(for: authorization("dns", "127.0.0.1"), url: "u") }
        #expect(throws: IssueError.self) {
            try names.name(for: authorization("ip", "127.0.0.1", wildcard: true), url: "u")
        }
        #expect(throws: IssueError.self) { try names.name(for: authorization("ip", "127.0.0.2"), url: "u") }
    }
}
