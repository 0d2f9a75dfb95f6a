/// One journal entry in the journald native protocol: an ordered list of fields (keys may repeat).
///
/// Encoding follows systemd's JOURNAL_NATIVE_PROTOCOL: `KEY=value\n` for single-line values and
/// `KEY\n<64-bit little-endian length><bytes>\n` for values that contain a newline.
package struct JournalEntry: Sendable, Equatable {
    /// A field name and its value.
    package struct Field: Sendable, Equatable {
        /// The field name, e.g. `MESSAGE` (uppercase letters, digits and `_`, not starting with `_`).
        package var name: String
        /// The value bytes (usually UTF-8 text).
        package var value: [UInt8]

        /// Creates a field from a text value.
        package init(_ name: String, _ value: String) {
            self.name = name
            self.value = Array(value.utf8)
        }
    }

    /// The fields in the order they are sent.
    package var fields: [Field]

    /// Creates an entry from fields.
    package init(fields: [Field] = []) {
        self.fields = fields
    }

    /// Appends a field.
    package mutating func append(_ name: String, _ value: String) {
        fields.append(Field(name, value))
    }

    /// The datagram payload in the native protocol.
    package func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.count + 10 })
        for field in fields {
            out.append(contentsOf: field.name.utf8)
            if field.value.contains(UInt8(ascii: "\n")) {
                out.append(UInt8(ascii: "\n"))
                var length = UInt64(field.value.count).littleEndian
                withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
            } else {
                out.append(UInt8(ascii: "="))
            }
            out.append(contentsOf: field.value)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// Parses a native-protocol payload (the inverse of ``encoded()``); `nil` if it is malformed.
    package static func decode(_ bytes: [UInt8]) -> JournalEntry? {
        var entry = JournalEntry()
        var index = 0
        while index < bytes.count {
            guard let end = bytes[index...].firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\n") })
            else { return nil }
            let name = String(decoding: bytes[index..<end], as: UTF8.self)
            if bytes[end] == UInt8(ascii: "=") {
                guard let newline = bytes[(end + 1)...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                entry.fields.append(Field(name: name, value: Array(bytes[(end + 1)..<newline])))
                index = newline + 1
            } else {
                let lengthStart = end + 1
                guard lengthStart + 8 <= bytes.count else { return nil }
                var length: UInt64 = 0
                for (shift, byte) in bytes[lengthStart..<(lengthStart + 8)].enumerated() {
                    length |= UInt64(byte) << (8 * UInt64(shift))
                }
                let valueStart = lengthStart + 8
                guard length <= UInt64(bytes.count - valueStart), valueStart + Int(length) < bytes.count,
                    bytes[valueStart + Int(length)] == UInt8(ascii: "\n")
                else { return nil }
                entry.fields.append(Field(name: name, value: Array(bytes[valueStart..<(valueStart + Int(length))])))
                index = valueStart + Int(length) + 1
            }
        }
        return entry
    }

    /// The first value of the named field as text, if present.
    package subscript(name: String) -> String? {
        fields.first { $0.name == name }.map { String(decoding: $0.value, as: UTF8.self) }
    }

    /// Maps a free-form key (e.g. swift-log metadata `not_after` or `cert-id`) to a valid journal field name:
    /// `prefix` + the key uppercased, with every character outside `[A-Z0-9_]` replaced by `_`, at most 64 bytes.
    package static func fieldName(for key: String, prefix: String) -> String {
        let mapped = key.uppercased().unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "A"..."Z", "0"..."9", "_": Character(scalar)
            default: "_"
            }
        }
        return String((prefix + String(mapped)).prefix(64))
    }

    /// Normalises a message id to 32 lowercase hex characters (accepts UUID spelling with dashes);
    /// `nil` if it is not a 128-bit id.
    package static func normalizedMessageID(_ text: String) -> String? {
        let hex = text.lowercased().filter { $0 != "-" }
        guard hex.utf8.count == 32, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        return hex
    }
}

extension JournalEntry.Field {
    /// Creates a field from raw bytes.
    package init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}
