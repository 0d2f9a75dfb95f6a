import ACMEModels
import Testing

/// The one sanitizer for CA-written text: single line, bounded, valid UTF-8.
@Suite struct UntrustedTextTests {
    @Test func controlCharactersBecomeSpacesAndTheCutKeepsWholeCharacters() {
        let cut = UntrustedText.sanitized(String(repeating: "€", count: 1000), maxBytes: 100)
        #expect(cut.utf8.count <= 100)
        #expect(cut.hasSuffix("…"))
        #expect(cut.dropLast().allSatisfy { $0 == "€" })
        #expect(UntrustedText.sanitized("a\u{1B}b\nc\u{85}d\u{202E}e", maxBytes: 100) == "a b c d e")
        #expect(UntrustedText.sanitized("short", maxBytes: 100) == "short")
        #expect(UntrustedText.sanitized(String(repeating: "x", count: 100), maxBytes: 100).count == 100)
    }
}
