import ACMEClient
import ACMECrypto
import ACMEModels
import Foundation
import HTTPTransportAHC

/// Where the Pebble test CA started by `scripts/testenv/pebble.sh start DIR` lives, read from the variables in
/// `DIR/env` (export them, or point `CERTKEEPER_TEST_PEBBLE_ENV` at the file).
///
/// Integration tests use `.enabled(if: PebbleEnvironment.isAvailable)`.
package struct PebbleEnvironment: Sendable {
    package var directoryURL: String
    /// PEM CA file for Pebble's HTTPS listener (pass to ``makeTransport(timeout:)``).
    package var tlsRootsPEMFile: String
    package var managementURL: String
    /// Pebble's issuing root + intermediate, for `openssl verify -CAfile`.
    package var rootsPEMFile: String?
    /// pebble-challtestsrv management API (`/add-a`, `/set-txt`, ...), nil when not started.
    package var challTestSrvURL: String?
    package var eabKeyID: String?
    package var eabHMACFile: String?
    /// Where Pebble's VA connects for http-01 (and tls-alpn-01), on 127.0.0.1 unless DNS says otherwise.
    package var httpPort: Int
    package var tlsPort: Int

    /// The variable that enables integration tests.
    package static let directoryVariable = "CERTKEEPER_TEST_ACME_DIRECTORY"

    /// The environment from the process (or the file named by `CERTKEEPER_TEST_PEBBLE_ENV`), or nil when unset.
    package static var current: PebbleEnvironment? {
        var env = ProcessInfo.processInfo.environment
        if env[directoryVariable] == nil, let file = env["CERTKEEPER_TEST_PEBBLE_ENV"],
            let text = try? String(contentsOfFile: file, encoding: .utf8)
        {
            env.merge(parseEnvFile(text)) { current, _ in current }
        }
        return PebbleEnvironment(environment: env)
    }

    /// True when ``current`` is non-nil.
    package static var isAvailable: Bool { current != nil }

    /// Reads the `CERTKEEPER_TEST_*` variables; nil when the directory or TLS roots are missing.
    package init?(environment env: [String: String]) {
        guard let directory = env[Self.directoryVariable], let roots = env["CERTKEEPER_TEST_ACME_TLS_ROOTS"] else {
            return nil
        }
        self.directoryURL = directory
        self.tlsRootsPEMFile = roots
        self.managementURL = env["CERTKEEPER_TEST_PEBBLE_MGMT"] ?? "https://127.0.0.1:15000"
        self.rootsPEMFile = env["CERTKEEPER_TEST_PEBBLE_ROOTS"]
        self.challTestSrvURL = env["CERTKEEPER_TEST_CHALLTESTSRV"]
        self.eabKeyID = env["CERTKEEPER_TEST_EAB_KID"]
        self.eabHMACFile = env["CERTKEEPER_TEST_EAB_HMAC_FILE"]
        self.httpPort = env["CERTKEEPER_TEST_PEBBLE_HTTP_PORT"].flatMap(Int.init) ?? 5002
        self.tlsPort = env["CERTKEEPER_TEST_PEBBLE_TLS_PORT"].flatMap(Int.init) ?? 5001
    }

    /// Parses `export NAME=value` lines.
    package static func parseEnvFile(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            var entry = line.trimmingCharacters(in: .whitespaces)
            if entry.hasPrefix("export ") { entry = String(entry.dropFirst(7)) }
            guard let equals = entry.firstIndex(of: "="), !entry.hasPrefix("#") else { continue }
            result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
                .trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        return result
    }

    /// A transport trusting Pebble's TLS CA. Call `shutdown()` when done.
    package func makeTransport(timeout: Duration = .seconds(20)) throws -> AsyncHTTPClientTransport {
        try AsyncHTTPClientTransport(trustRootsPEMFile: tlsRootsPEMFile, timeout: timeout)
    }

    /// The EAB key id and decoded MAC key for `kid-1` (pebble.sh writes kid-1...kid-5).
    package func eab(kid: String? = nil) throws -> (keyID: String, hmacKey: [UInt8]) {
        guard let file = eabHMACFile, let defaultKID = eabKeyID else {
            throw PebbleEnvironmentError(message: "CERTKEEPER_TEST_EAB_KID / CERTKEEPER_TEST_EAB_HMAC_FILE not set")
        }
        let keyID = kid ?? defaultKID
        let path = (file as NSString).deletingLastPathComponent + "/\(keyID).hmac"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let key = Base64URL.decodeLenient(text) else {
            throw PebbleEnvironmentError(message: "\(path) is not base64url")
        }
        return (keyID, key)
    }

    /// Makes pebble-challtestsrv answer A queries for `host` with `addresses` (e.g. another loopback IP).
    package func addARecord(host: String, addresses: [String], transport: any HTTPTransport) async throws {
        try await challTestSrv(
            "/add-a",
            ["host": .string(host), "addresses": .array(addresses.map { .string($0) })],
            transport
        )
    }

    /// Sets a TXT record on pebble-challtestsrv's mock DNS (for dns-01).
    package func setTXT(host: String, value: String, transport: any HTTPTransport) async throws {
        try await challTestSrv("/set-txt", ["host": .string(host), "value": .string(value)], transport)
    }

    /// Clears the TXT records of `host`.
    package func clearTXT(host: String, transport: any HTTPTransport) async throws {
        try await challTestSrv("/clear-txt", ["host": .string(host)], transport)
    }

    private func challTestSrv(_ path: String, _ body: JSONValue, _ transport: any HTTPTransport) async throws {
        guard let base = challTestSrvURL else {
            throw PebbleEnvironmentError(message: "CERTKEEPER_TEST_CHALLTESTSRV not set (PEBBLE_CHALLTESTSRV=0?)")
        }
        let bytes = body.serialized
        let response = try await transport.send(
            HTTPRequestData(
                method: "POST",
                url: base + path,
                headers: [("Content-Type", "application/json"), ("Content-Length", String(bytes.count))],
                body: bytes
            )
        )
        guard response.status == 200 else {
            throw PebbleEnvironmentError(message: "challtestsrv \(path) answered HTTP \(response.status)")
        }
    }
}

/// A misconfigured test environment.
package struct PebbleEnvironmentError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
