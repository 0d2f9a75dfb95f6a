import ACMEModels
import Foundation
import FuzzSupport

// Decodes the input as every ACME resource the client reads from a CA, with the client's decoder (`ACMEJSON`).
// Types without dates must survive encode -> decode unchanged; the others are re-encoded to catch encoder traps.

func roundTrips<T: Codable & Equatable>(_ type: T.Type, _ bytes: [UInt8]) {
    guard let value = try? ACMEJSON.decode(type, from: bytes) else { return }
    let encoded: Data
    do {
        encoded = try JSONEncoder().encode(value)
    } catch {
        fatalError("\(T.self) decoded but does not encode: \(error)")
    }
    let again = try? ACMEJSON.decode(type, from: [UInt8](encoded))
    Fuzz.check(again == value, "\(T.self) does not survive encode -> decode: \(value) vs \(String(describing: again))")
}

func decodes<T: Codable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
    guard let value = try? ACMEJSON.decode(type, from: bytes) else { return nil }
    _ = try? JSONEncoder().encode(value)
    return value
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzACMEJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    roundTrips(ACMEDirectory.self, bytes)
    roundTrips(ACMEProblem.self, bytes)
    roundTrips(AccountObject.self, bytes)
    roundTrips(Identifier.self, bytes)
    if let problem = decodes(ACMEProblem.self, bytes) { _ = problem.description }
    if let order = decodes(Order.self, bytes) { _ = order.error?.description }
    if let authorization = decodes(Authorization.self, bytes) {
        _ = authorization.challenge(ofType: Challenge.http01)
        _ = authorization.challenges.map { $0.error?.description }
    }
    _ = decodes(Challenge.self, bytes)
    if let info = decodes(RenewalInfo.self, bytes) { _ = info.isValid }
    if let value = decodes(JSONValue.self, bytes) { _ = value.serializedString }
    if let text = String(validating: bytes, as: UTF8.self), text.utf8.count < 64 {
        if let date = ACMEJSON.parseRFC3339(text) { _ = ACMEJSON.formatRFC3339(date) }
    }
    return 0
}

let replayed: Void = FuzzReplay.run(CommandLine.arguments, fuzzACMEJSON)
