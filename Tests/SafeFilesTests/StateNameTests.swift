import Testing

@testable import SafeFiles

struct StateNameTests {
    @Test(arguments: [
        ("https://127.0.0.1:14000/dir", "127.0.0.1_14000_dir--default"),
        ("https://acme-v02.api.letsencrypt.org/directory", "acme-v02.api.letsencrypt.org_directory--default"),
        ("https://acme.zerossl.com/v2/DV90", "acme.zerossl.com_v2-dv90--default"),
        ("https://Example.COM/", "example.com--default"),
    ])
    func slugsCADirectoryURLs(url: String, expected: String) throws {
        #expect(try StateName.accountID(caDirectoryURL: url, name: "default") == expected)
    }

    @Test(arguments: ["", "../x", ".hidden", "a/b", "a b", "-x", "é", String(repeating: "a", count: 201)])
    func rejectsUnsafeNames(name: String) {
        #expect(!StateName.isValid(name))
        #expect(throws: StateNameError.self) {
            try StateName.accountID(caDirectoryURL: "https://ca.example/dir", name: name)
        }
    }

    @Test func rejectsURLsWithoutHost() {
        #expect(throws: StateNameError.invalidCADirectoryURL("file:///etc/passwd")) {
            try StateName.caSlug("file:///etc/passwd")
        }
        #expect(throws: StateNameError.self) { try StateName.caSlug("not a url") }
    }

    @Test func acceptsOrdinaryNames() {
        for name in ["default", "www.example.org", "prod_2", "A-1"] { #expect(StateName.isValid(name)) }
    }
}
