import TOMLKit

/// A TOML value together with where it came from: the parsed document in a form the validators can walk.
struct ConfigNode: Sendable {
    enum Value: Sendable {
        case string(String)
        case integer(Int)
        case float(Double)
        case boolean(Bool)
        case array([ConfigNode])
        /// Entries in document order.
        case table([(key: String, node: ConfigNode)])
        /// Dates and times: not used by certkeeper, kept only to name the type in errors.
        case dateTime(String)
    }

    var value: Value
    var path: [TOMLPathElement]
    /// Where the key (or array element, or `[table]` header) starts.
    var keyPosition: SourcePosition
    /// Where the value starts (the key position for tables defined by a header).
    var valuePosition: SourcePosition

    /// The TOML type name used in "expected a string, got an integer" messages.
    var typeDescription: String {
        switch value {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a float"
        case .boolean: return "a boolean"
        case .array: return "an array"
        case .table: return "a table"
        case .dateTime: return "a date/time"
        }
    }

    /// The last key of `path` (the table or key name this node is stored under).
    var key: String {
        for element in path.reversed() {
            if case .key(let name) = element { return name }
        }
        return ""
    }

    /// The table entries, or nil when this is not a table.
    var entries: [(key: String, node: ConfigNode)]? {
        if case .table(let entries) = value { return entries }
        return nil
    }

    subscript(key: String) -> ConfigNode? {
        entries?.first(where: { $0.key == key })?.node
    }

    /// Parses TOML text. Returns the root table, or the syntax error position and message.
    static func parse(_ text: String) -> Result<ConfigNode, ConfigSyntaxError> {
        if let error = TOMLPreCheck.firstCrashingShape(in: text) { return .failure(error) }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let position = SourcePosition(
                line: max(1, error.source.begin.line), column: max(1, error.source.begin.column))
            return .failure(ConfigSyntaxError(position: position, message: error.description))
        } catch {
            return .failure(ConfigSyntaxError(position: .start, message: "\(error)"))
        }
        let map = TOMLSourceMap(text: text)
        let root = build(table.tomlValue, path: [], parent: .start, map: map)
        // TOMLKit 0.6.0 never deletes the toml::table it parsed (CTOML allocates it with `new`, nothing deletes it,
        // and TOMLTable has no deinit): clearing it frees every node in it, leaving only the empty table object.
        // The tree above holds Swift values only.
        table.clear()
        return .success(root)
    }

    private static func build(_ value: TOMLValue, path: [TOMLPathElement], parent: SourcePosition, map: TOMLSourceMap)
        -> ConfigNode
    {
        let keyPosition = map.keyPositions[path] ?? parent
        let valuePosition = map.valuePositions[path] ?? keyPosition
        let built: Value
        switch value.type {
        case .string: built = .string(value.string ?? "")
        case .int: built = .integer(value.int ?? 0)
        case .double: built = .float(value.double ?? 0)
        case .bool: built = .boolean(value.bool ?? false)
        case .date, .time, .dateTime: built = .dateTime(value.debugDescription)
        case .array:
            var elements: [ConfigNode] = []
            if let array = value.array {
                for (index, element) in array.enumerated() {
                    elements.append(
                        build(element.tomlValue, path: path + [.index(index)], parent: valuePosition, map: map))
                }
            }
            built = .array(elements)
        case .table:
            var entries: [(key: String, node: ConfigNode)] = []
            if let table = value.table {
                for (key, element) in table {
                    entries.append(
                        (key, build(element.tomlValue, path: path + [.key(key)], parent: keyPosition, map: map)))
                }
            }
            entries.sort { ($0.node.keyPosition, $0.key) < ($1.node.keyPosition, $1.key) }
            built = .table(entries)
        }
        return ConfigNode(value: built, path: path, keyPosition: keyPosition, valuePosition: valuePosition)
    }
}

/// A TOML syntax error as reported by TOMLKit (toml++).
struct ConfigSyntaxError: Error, Sendable {
    var position: SourcePosition
    var message: String
}
