/// One step in a path to a node of a TOML document: a table key or an array index.
enum TOMLPathElement: Hashable, Sendable {
    case key(String)
    case index(Int)
}

/// A 1-based line and column in a config file. Columns count Unicode scalars.
struct SourcePosition: Hashable, Sendable, Comparable {
    var line: Int
    var column: Int

    static let start = SourcePosition(line: 1, column: 1)

    static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// Finds where keys, table headers and values sit in a TOML document.
///
/// TOMLKit reports positions only for syntax errors, so this scanner walks the text a second time and records,
/// for every key path, where its key (or array element, or table header) starts and where its value starts.
/// It runs only on text that TOMLKit has already accepted, so it recognises TOML's structure
/// (headers, dotted and quoted keys, strings of all four kinds, arrays, inline tables, comments)
/// but does not validate it. Unknown paths simply have no entry; callers fall back to a parent's position.
struct TOMLSourceMap: Sendable {
    /// Where the key of each path starts (for array elements: where the element starts; for `[table]`: the header's first key).
    private(set) var keyPositions: [[TOMLPathElement]: SourcePosition] = [:]
    /// Where the value of each `key = value` (or array element) starts.
    private(set) var valuePositions: [[TOMLPathElement]: SourcePosition] = [:]

    init(text: String) {
        var scanner = Scanner(scalars: Array(text.unicodeScalars))
        scanner.scanDocument()
        keyPositions = scanner.keyPositions
        valuePositions = scanner.valuePositions
    }

    private struct Scanner: ScalarScanning {
        let scalars: [Unicode.Scalar]
        var index = 0
        var line = 1
        var column = 1
        var keyPositions: [[TOMLPathElement]: SourcePosition] = [:]
        var valuePositions: [[TOMLPathElement]: SourcePosition] = [:]
        var arrayTableCounts: [[TOMLPathElement]: Int] = [:]

        init(scalars: [Unicode.Scalar]) {
            self.scalars = scalars
        }

        var position: SourcePosition { SourcePosition(line: line, column: column) }

        mutating func skipSpaces() {
            while let scalar = current, scalar == " " || scalar == "\t" { advance() }
        }

        mutating func skipComment() {
            guard current == "#" else { return }
            while let scalar = current, scalar != "\n" { advance() }
        }

        /// Skips spaces, newlines and comments (inside arrays and between statements).
        mutating func skipTrivia() {
            while let scalar = current {
                if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                    advance()
                } else if scalar == "#" {
                    skipComment()
                } else {
                    return
                }
            }
        }

        mutating func skipRestOfLine() {
            while let scalar = current, scalar != "\n" { advance() }
        }

        mutating func record(key path: [TOMLPathElement], at position: SourcePosition) {
            if keyPositions[path] == nil { keyPositions[path] = position }
        }

        mutating func scanDocument() {
            var table: [TOMLPathElement] = []
            if current == "\u{FEFF}" { index += 1 }  // a byte order mark is not a column
            while !atEnd {
                skipTrivia()
                guard let scalar = current else { return }
                let start = index
                if scalar == "[" {
                    table = scanHeader()
                } else {
                    scanKeyValue(in: table)
                }
                skipSpaces()
                skipComment()
                if index == start { advance() }  // never loop without progress
                skipRestOfLine()
            }
        }

        mutating func scanHeader() -> [TOMLPathElement] {
            advance()
            let isArrayOfTables = current == "["
            if isArrayOfTables { advance() }
            let parts = scanKeyPath()
            var path: [TOMLPathElement] = []
            for (name, position) in parts {
                path.append(.key(name))
                record(key: path, at: position)
            }
            if isArrayOfTables {
                let count = arrayTableCounts[path, default: 0]
                arrayTableCounts[path] = count + 1
                path.append(.index(count))
                keyPositions[path] = parts.first?.1 ?? position
            } else if let last = parts.last {
                // An explicit header wins over an earlier implicit definition; it points at the header's last key.
                keyPositions[path] = last.1
            }
            while let scalar = current, scalar == "]" || scalar == " " || scalar == "\t" { advance() }
            return path
        }

        mutating func scanKeyValue(in table: [TOMLPathElement]) {
            let parts = scanKeyPath()
            guard !parts.isEmpty else { return }
            var path = table
            for (name, position) in parts {
                path.append(.key(name))
                record(key: path, at: position)
            }
            skipSpaces()
            guard current == "=" else { return }
            advance()
            skipSpaces()
            scanValue(at: path)
        }

        mutating func scanKeyPath() -> [(String, SourcePosition)] {
            var parts: [(String, SourcePosition)] = []
            while true {
                skipSpaces()
                let start = position
                guard let scalar = current else { break }
                var name = ""
                if scalar == "\"" {
                    name = scanBasicString()
                } else if scalar == "'" {
                    name = scanLiteralString()
                } else {
                    while let scalar = current, Self.isBareKeyScalar(scalar) {
                        name.unicodeScalars.append(scalar)
                        advance()
                    }
                    if name.isEmpty { break }
                }
                parts.append((name, start))
                skipSpaces()
                guard current == "." else { break }
                advance()
            }
            return parts
        }

        static func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
            default: return false
            }
        }

        mutating func scanValue(at path: [TOMLPathElement]) {
            valuePositions[path] = position
            guard let scalar = current else { return }
            switch scalar {
            case "\"":
                if peek(1) == "\"" && peek(2) == "\"" {
                    scanMultilineString(quote: "\"")
                } else {
                    _ = scanBasicString()
                }
            case "'":
                if peek(1) == "'" && peek(2) == "'" {
                    scanMultilineString(quote: "'")
                } else {
                    _ = scanLiteralString()
                }
            case "[":
                scanArray(at: path)
            case "{":
                scanInlineTable(at: path)
            default:
                while let scalar = current, !",]}#\n\r".unicodeScalars.contains(scalar) { advance() }
            }
        }

        mutating func scanArray(at path: [TOMLPathElement]) {
            advance()
            var element = 0
            while true {
                skipTrivia()
                guard let scalar = current, scalar != "]" else { break }
                let start = index
                let elementPath = path + [.index(element)]
                record(key: elementPath, at: position)
                scanValue(at: elementPath)
                element += 1
                skipTrivia()
                if current == "," { advance() }
                if index == start { advance() }
            }
            advance()
        }

        mutating func scanInlineTable(at path: [TOMLPathElement]) {
            advance()
            while true {
                skipTrivia()
                guard let scalar = current, scalar != "}" else { break }
                let start = index
                scanKeyValue(in: path)
                skipTrivia()
                if current == "," { advance() }
                if index == start { advance() }
            }
            advance()
        }

        /// Scans `"..."` and returns its decoded contents.
        mutating func scanBasicString() -> String {
            advance()
            var out = ""
            while let scalar = current, scalar != "\"", scalar != "\n" {
                advance()
                guard scalar == "\\" else {
                    out.unicodeScalars.append(scalar)
                    continue
                }
                guard let escaped = current else { break }
                advance()
                switch escaped {
                case "b": out += "\u{8}"
                case "t": out += "\t"
                case "n": out += "\n"
                case "f": out += "\u{C}"
                case "r": out += "\r"
                case "e": out += "\u{1B}"
                case "x": out.unicodeScalars.append(scanHexScalar(digits: 2))
                case "u": out.unicodeScalars.append(scanHexScalar(digits: 4))
                case "U": out.unicodeScalars.append(scanHexScalar(digits: 8))
                default: out.unicodeScalars.append(escaped)
                }
            }
            advance()
            return out
        }

        mutating func scanHexScalar(digits: Int) -> Unicode.Scalar {
            var hex = ""
            for _ in 0..<digits {
                guard let scalar = current, scalar.properties.isASCIIHexDigit else { break }
                hex.unicodeScalars.append(scalar)
                advance()
            }
            return UInt32(hex, radix: 16).flatMap(Unicode.Scalar.init) ?? "\u{FFFD}"
        }

        /// Scans `'...'` and returns its contents.
        mutating func scanLiteralString() -> String {
            advance()
            var out = ""
            while let scalar = current, scalar != "'", scalar != "\n" {
                out.unicodeScalars.append(scalar)
                advance()
            }
            advance()
            return out
        }

        mutating func scanMultilineString(quote: Unicode.Scalar) {
            advance()
            advance()
            advance()
            while let scalar = current {
                if quote == "\"" && scalar == "\\" {
                    advance()
                    advance()
                    continue
                }
                if scalar == quote && peek(1) == quote && peek(2) == quote {
                    advance()
                    advance()
                    advance()
                    // Up to two more quotes may close the string: `""""` ends with one quote in the content.
                    var extra = 0
                    while current == quote && extra < 2 {
                        advance()
                        extra += 1
                    }
                    return
                }
                advance()
            }
        }
    }
}
