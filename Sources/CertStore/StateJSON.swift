import Foundation
import SafeFiles

/// The one JSON dialect of the state directory: pretty-printed, sorted keys, ISO-8601 dates.
package enum StateJSON {
    package static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(value)) + [0x0A]
    }

    package static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], path: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(type, from: Data(bytes))
        } catch {
            throw CertStoreError.corrupt(path: path, reason: "\(error)")
        }
    }

    /// Reads and decodes `path`, or nil when the file does not exist.
    package static func load<T: Decodable>(_ type: T.Type, at path: String) throws -> T? {
        guard let bytes = try AtomicFile.read(path) else { return nil }
        return try decode(type, from: bytes, path: path)
    }

    /// Reads and decodes `name` in `directory` (never following a link), or nil when the file does not exist.
    package static func load<T: Decodable>(_ type: T.Type, in directory: DirectoryHandle, name: String) throws -> T? {
        guard let bytes = try directory.readFile(name, maxSize: AtomicFile.maxReadSize) else { return nil }
        return try decode(type, from: bytes, path: directory.pathOf(name))
    }

    /// A compact UTC timestamp for file and directory names: 20250102T030405Z.
    package static func fileTimestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "T" + pad(c.hour, 2) + pad(c.minute, 2)
            + pad(c.second, 2) + "Z"
    }

    /// The date ``fileTimestamp(_:)`` wrote (`YYYYMMDDTHHMMSSZ`), or nil for anything else.
    package static func parseFileTimestamp(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard bytes[range].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
            return Int(String(decoding: bytes[range], as: UTF8.self))
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8), let hour = number(9..<11),
            let minute = number(11..<13), let second = number(13..<15)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let date = calendar.date(from: components), fileTimestamp(date) == text else { return nil }
        return date
    }
}
