import ACMECrypto
import Testing

@Suite struct Base64URLTests {
    @Test func encodesWithoutPadding() {
        #expect(Base64URL.encode([]) == "")
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.encode(Array("f".utf8)) == "Zg")
        #expect(Base64URL.encode([0, 0x87, 0x65, 0x43, 0x21]) == "AIdlQyE")
    }

    @Test func strictDecodeRejectsPaddingAndForeignCharacters() {
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decode("Zg") == Array("f".utf8))
        #expect(Base64URL.decode("Zg==") == nil)
        #expect(Base64URL.decode("+/8") == nil)
        #expect(Base64URL.decode("Zm 9v") == nil)
        #expect(Base64URL.decode("Z") == nil)
    }

    @Test func lenientDecodeAcceptsHumanPastedKeys() {
        let bytes: [UInt8] = [0xFB, 0xFF, 0xBF, 0x00, 0x10]
        let urlForm = Base64URL.encode(bytes)
        #expect(Base64URL.decodeLenient(urlForm) == bytes)
        #expect(Base64URL.decodeLenient("+/+/ABA=") == bytes)
        #expect(Base64URL.decodeLenient("  -_-_\nABA=\n") == bytes)
        #expect(Base64URL.decodeLenient("-_-_AB*A") == nil)
    }

    @Test func tokenValidation() {
        #expect(TokenValidation.isBase64URLToken("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"))
        #expect(!TokenValidation.isBase64URLToken(""))
        #expect(!TokenValidation.isBase64URLToken("../etc/passwd"))
        #expect(!TokenValidation.isBase64URLToken("abc="))
        #expect(!TokenValidation.isBase64URLToken(String(repeating: "a", count: 513)))
    }
}
