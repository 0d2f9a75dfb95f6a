import Foundation
import Testing

@testable import CertStore

/// The UTC time in the names of archived accounts and replaced keys, written and read back.
struct FileTimestampTests {
    @Test func aWrittenTimestampIsReadBack() {
        let date = Date(timeIntervalSince1970: 1_750_000_000)
        #expect(StateJSON.fileTimestamp(date) == "20250615T150640Z")
        #expect(StateJSON.parseFileTimestamp("20250615T150640Z") == date)
    }

    @Test(arguments: [
        "", "20250615T150640", "20250615X150640Z", "2025061aT150640Z", "20251315T150640Z", "20250615T150640Z-2",
    ])
    func anythingElseIsNoTimestamp(text: String) {
        #expect(StateJSON.parseFileTimestamp(text) == nil)
    }
}
