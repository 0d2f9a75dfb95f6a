import Testing

@testable import CertkeeperConfig

@Suite struct TOMLSourceMapTests {
    @Test func findsHeadersDottedAndQuotedKeysAndArrayElements() {
        let text = """
            # comment with "quotes" and [brackets]
            title = \"\"\"multi
            line = not a key
            \"\"\"
            a.b . 'c d' = { x = 1, "y" = [ "p", 'q' ] }
            [ challenge . domains . "*.example.com" ]
              type = "dns-01" # trailing [x]
            [[arr]]
            k = 1
            [[arr]]
            k = 2
            list = [
              ["/bin/a", "-x"],  # comment
              ["/bin/b"],
            ]
            """
        let map = TOMLSourceMap(text: text)
        func key(_ path: TOMLPathElement...) -> SourcePosition? { map.keyPositions[path] }
        #expect(key(.key("title")) == SourcePosition(line: 2, column: 1))
        #expect(key(.key("line")) == nil)
        #expect(key(.key("a")) == SourcePosition(line: 5, column: 1))
        #expect(key(.key("a"), .key("b")) == SourcePosition(line: 5, column: 3))
        #expect(key(.key("a"), .key("b"), .key("c d")) == SourcePosition(line: 5, column: 7))
        #expect(map.valuePositions[[.key("a"), .key("b"), .key("c d")]] == SourcePosition(line: 5, column: 15))
        #expect(key(.key("a"), .key("b"), .key("c d"), .key("y")) == SourcePosition(line: 5, column: 24))
        #expect(key(.key("a"), .key("b"), .key("c d"), .key("y"), .index(1)) == SourcePosition(line: 5, column: 37))
        #expect(key(.key("challenge"), .key("domains"), .key("*.example.com")) == SourcePosition(line: 6, column: 25))
        #expect(
            key(.key("challenge"), .key("domains"), .key("*.example.com"), .key("type"))
                == SourcePosition(line: 7, column: 3))
        #expect(key(.key("arr"), .index(1), .key("k")) == SourcePosition(line: 11, column: 1))
        #expect(key(.key("arr"), .index(1), .key("list"), .index(1), .index(0)) == SourcePosition(line: 14, column: 4))
        #expect(
            map.valuePositions[[.key("arr"), .index(1), .key("list"), .index(0), .index(1)]]
                == SourcePosition(line: 13, column: 14))
    }

    @Test func handlesByteOrderMarkCRLFAndSpecialCharactersInStrings() {
        let map = TOMLSourceMap(text: "\u{FEFF}a = \"x # ] = y\"\r\nb = ['#', \"]\"] # c = 1\r\n\"k=v\" = 1\r\n")
        #expect(map.keyPositions[[.key("a")]] == SourcePosition(line: 1, column: 1))
        #expect(map.keyPositions[[.key("b")]] == SourcePosition(line: 2, column: 1))
        #expect(map.keyPositions[[.key("b"), .index(1)]] == SourcePosition(line: 2, column: 11))
        #expect(map.keyPositions[[.key("c")]] == nil)
        #expect(map.keyPositions[[.key("k=v")]] == SourcePosition(line: 3, column: 1))
    }

    @Test func nodesCarryPositionsFromTheMap() throws {
        let root = try ConfigNode.parse("[install]\nmode = \"0640\"\n").get()
        let mode = try #require(root["install"]?["mode"])
        #expect(mode.keyPosition == SourcePosition(line: 2, column: 1))
        #expect(mode.valuePosition == SourcePosition(line: 2, column: 8))
        #expect(
            TableReader.displayName(of: [.key("challenge"), .key("domains"), .key("*.x.org")])
                == "[challenge.domains.\"*.x.org\"]")
    }
}
