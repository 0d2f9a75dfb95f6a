import ACMEClient
import ACMECrypto
import Foundation
import Renewal
import SwiftASN1
import X509

/// A scripted ACME CA as an ``HTTPTransport``: directory, nonces, accounts, orders that are `ready` at once,
/// finalize that issues a real certificate (signed by ``TestCA``) for the CSR's key, download, and ARI.
/// Failures and ARI answers are scripted; every request is recorded. No sockets, no sleeping.
final class FakeACMEServer: HTTPTransport, @unchecked Sendable {
    static let base = "https://ca.test"
    static let directoryURL = "https://ca.test/dir"

    struct Recorded {
        var method: String
        var url: String
        /// The decoded JWS payload (POST) as a JSON object; empty for POST-as-GET and GET.
        var payload: [String: Any]
        var payloadText: String
    }

    /// What the ARI endpoint answers for a certID: a window and an optional Retry-After (seconds).
    struct ARIAnswer: Sendable {
        var start: Date
        var end: Date
        var retryAfter: Int?
    }

    let ca: TestCA
    private let lock = NSLock()
    private var recorded: [Recorded] = []
    private var nonce = 0
    private var orders: [String: (status: String, domains: [String], certificate: String?)] = [:]
    /// Per order: its authorization URLs (absent: no authorizations, the order is `ready` at once).
    private var orderAuthorizations: [String: [String]] = [:]
    /// Per authorization URL: identifier, wildcard flag, and whether its challenge was answered.
    private var authorizations: [String: (value: String, wildcard: Bool, valid: Bool)] = [:]
    private var authorizationScript: [(value: String, wildcard: Bool)]?
    private var orderIdentifierScript: [String]?
    private var certificates: [String: String] = [:]
    private var nextOrder = 0
    private var newOrderResponder: (@Sendable ([String: Any]) -> HTTPResponseData?)?
    /// Faults still to inject: (path prefix, requests left, what to do).
    private var faults: [(prefix: String, remaining: Int, fault: Fault)] = []
    private var tampering: ChainTampering?

    /// `meta.profiles` of the directory (nil: none).
    let profiles: [String: String]?
    /// Whether the directory has `renewalInfo`.
    let offersARI: Bool
    /// The time the CA issues at (the test's manual clock).
    let now: @Sendable () -> Date
    /// Lifetime of issued certificates.
    let lifetime: TimeInterval
    private var ariHandler: @Sendable (String) -> ARIAnswer? = { _ in nil }

    init(
        ca: TestCA, now: @escaping @Sendable () -> Date, lifetime: TimeInterval = 90 * 86_400, offersARI: Bool = false,
        profiles: [String: String]? = nil
    ) {
        self.ca = ca
        self.now = now
        self.lifetime = lifetime
        self.offersARI = offersARI
        self.profiles = profiles
    }

    private var hangsNewOrders = false
    /// Fires when a newOrder is hanging (``hangNewOrders()``).
    let newOrderHanging = OneShotSignal()

    // MARK: - Scripting and inspection

    /// From now on every newOrder asks `handler` first (given the payload); nil falls through to success.
    /// Pass nil to make newOrder succeed again.
    func scriptNewOrder(_ handler: (@Sendable ([String: Any]) -> HTTPResponseData?)?) {
        lock.withLock { newOrderResponder = handler }
    }

    /// How a misbehaving CA spoils the chains it issues.
    enum ChainTampering: Sendable, CaseIterable {
        /// The leaf certifies another key than the CSR's.
        case foreignKey
        /// The leaf names one more DNS name than the order.
        case extraName
        /// The certificate after the leaf is another CA's (same name, other key): the link does not verify.
        case brokenLink
    }

    /// From now on finalize issues chains spoiled this way (nil: honest chains again).
    func tamperChains(_ tampering: ChainTampering?) {
        lock.withLock { self.tampering = tampering }
    }

    /// What an injected fault does to a request.
    enum Fault: Sendable {
        /// Answers with this response; the CA did nothing.
        case respond(HTTPResponseData)
        /// Carries the request out, then loses the reply (a dropped connection).
        case dropAfter
        /// Drops the connection before the request reaches the CA.
        case dropBefore
    }

    /// The next `count` requests whose path starts with `pathPrefix` (e.g. "/finalize/") meet `fault`.
    func injectFault(_ pathPrefix: String, count: Int, _ fault: Fault) {
        lock.withLock { faults.append((pathPrefix, count, fault)) }
    }

    /// An order the CA already knows (e.g. created before a restart), optionally `valid` with a certificate.
    func addOrder(url: String, status: String, domains: [String], certificatePEM: String? = nil) {
        let certificateURL = certificatePEM.map { _ in "\(Self.base)/cert/\(url.split(separator: "/").last!)" }
        lock.withLock {
            orders[url] = (status, domains, certificateURL)
            if let certificateURL, let certificatePEM { certificates[certificateURL] = certificatePEM }
        }
    }

    /// From now on new orders are `pending` with one authorization per entry (identifier value and wildcard flag)
    /// instead of `ready` at once; nil: the requested names with RFC 8555 wildcard mapping. Each authorization
    /// offers dns-01 and http-01; answering its challenge makes it valid, and the order `ready` once all are.
    func scriptAuthorizations(_ identifiers: [(value: String, wildcard: Bool)]? = nil) {
        lock.withLock {
            authorizationScript = identifiers
            authorizationsEnabled = true
        }
    }
    private var authorizationsEnabled = false

    /// From now on order objects list these identifier values instead of the requested ones (nil: the requested).
    func scriptOrderIdentifiers(_ values: [String]?) {
        lock.withLock { orderIdentifierScript = values }
    }

    /// The challenge URLs that were answered (POSTed to).
    var answeredChallenges: [String] { requests.filter { $0.url.hasPrefix("\(Self.base)/chall/") }.map(\.url) }

    /// What renewalInfo answers per certID (nil: 404).
    func answerARI(_ handler: @escaping @Sendable (String) -> ARIAnswer?) {
        lock.withLock { ariHandler = handler }
    }

    var requests: [Recorded] { lock.withLock { recorded } }
    var newOrders: [Recorded] { requests.filter { $0.url == "\(Self.base)/new-order" } }
    func count(_ path: String) -> Int { requests.filter { $0.url.hasPrefix(Self.base + path) }.count }

    // MARK: - HTTPTransport

    /// From now on newOrder never answers (until the request is cancelled), as a CA that hangs.
    func hangNewOrders() {
        lock.withLock { hangsNewOrders = true }
    }

    func send(_ request: HTTPRequestData) async throws -> HTTPResponseData {
        if request.url == "\(Self.base)/new-order", lock.withLock({ hangsNewOrders }) {
            lock.withLock {
                recorded.append(Recorded(method: request.method, url: request.url, payload: [:], payloadText: ""))
            }
            let (never, continuation) = AsyncStream.makeStream(of: Void.self)
            newOrderHanging.fire()
            for await _ in never {}  // ends only when the task is cancelled
            withExtendedLifetime(continuation) {}
            throw CancellationError()
        }
        let (payload, text) = Self.decodePayload(request.body)
        let nonce: Int = lock.withLock {
            recorded.append(Recorded(method: request.method, url: request.url, payload: payload, payloadText: text))
            self.nonce += 1
            return self.nonce
        }
        let path = String(request.url.dropFirst(Self.base.count))
        let fault: Fault? = lock.withLock {
            guard let index = faults.firstIndex(where: { path.hasPrefix($0.prefix) && $0.remaining > 0 }) else {
                return nil
            }
            faults[index].remaining -= 1
            return faults[index].fault
        }
        switch fault {
        case .respond(var response)?:
            response.headers.append(("Replay-Nonce", "nonce-\(nonce)"))
            return response
        case .dropAfter?:
            _ = try route(request, payload: payload)
            throw HTTPTransportError(kind: .connectionReset, url: request.url, message: "remoteConnectionClosed")
        case .dropBefore?:
            throw HTTPTransportError(kind: .connectionReset, url: request.url, message: "remoteConnectionClosed")
        case nil:
            var response = try route(request, payload: payload)
            response.headers.append(("Replay-Nonce", "nonce-\(nonce)"))
            return response
        }
    }

    private func route(_ request: HTTPRequestData, payload: [String: Any]) throws -> HTTPResponseData {
        let url = request.url
        let path = String(url.dropFirst(Self.base.count))
        switch path {
        case "/dir", "/dir2":
            return Self.json(200, directoryJSON())
        case "/nonce":
            return HTTPResponseData(status: 200)
        case "/new-acct":
            return Self.json(
                201, #"{"status":"valid","contact":[]}"#, headers: [("Location", "\(Self.base)/acct/1")])
        case "/new-order":
            let handler = lock.withLock { newOrderResponder }
            if let handler, let scripted = handler(payload) { return scripted }
            let domains = ((payload["identifiers"] as? [[String: Any]]) ?? []).compactMap { $0["value"] as? String }
            let orderURL: String = lock.withLock {
                nextOrder += 1
                let orderURL = "\(Self.base)/order/\(nextOrder)"
                let reported = orderIdentifierScript ?? domains
                guard authorizationsEnabled else {
                    orders[orderURL] = ("ready", reported, nil)
                    return orderURL
                }
                orders[orderURL] = ("pending", reported, nil)
                let identifiers =
                    authorizationScript
                    ?? domains.map { $0.hasPrefix("*.") ? (String($0.dropFirst(2)), true) : ($0, false) }
                var urls: [String] = []
                for (index, identifier) in identifiers.enumerated() {
                    let url = "\(Self.base)/authz/\(nextOrder)-\(index)"
                    authorizations[url] = (identifier.value, identifier.wildcard, false)
                    urls.append(url)
                }
                orderAuthorizations[orderURL] = urls
                return orderURL
            }
            return Self.json(201, orderJSON(orderURL), headers: [("Location", orderURL)])
        default:
            break
        }
        if path.hasPrefix("/order/") {
            guard lock.withLock({ orders[url] != nil }) else { return Self.problem(404, "malformed", "no such order") }
            return Self.json(200, orderJSON(url))
        }
        if path.hasPrefix("/authz/") {
            guard let authorization = lock.withLock({ authorizations[url] }) else {
                return Self.problem(404, "malformed", "no such authorization")
            }
            let id = path.dropFirst("/authz/".count)
            let status = authorization.valid ? "valid" : "pending"
            let challenges = ["dns-01", "http-01"].map {
                #"{"type":"\#($0)","url":"\#(Self.base)/chall/\#(id)-\#($0)","status":"\#(status)","token":"tok\#(id)-abcdefghijklmnopqrstuvwxyz0123456789"}"#
            }
            let wildcard = authorization.wildcard ? #","wildcard":true"# : ""
            return Self.json(
                200,
                #"{"status":"\#(status)","identifier":{"type":"dns","value":"\#(authorization.value)"},"challenges":[\#(challenges.joined(separator: ","))]\#(wildcard)}"#
            )
        }
        if path.hasPrefix("/chall/") {
            let id = String(path.dropFirst("/chall/".count).split(separator: "-").prefix(2).joined(separator: "-"))
            let authorizationURL = "\(Self.base)/authz/\(id)"
            lock.withLock {
                authorizations[authorizationURL]?.valid = true
                for (orderURL, urls) in orderAuthorizations where urls.contains(authorizationURL) {
                    if urls.allSatisfy({ authorizations[$0]?.valid == true }), orders[orderURL]?.status == "pending" {
                        orders[orderURL]?.status = "ready"
                    }
                }
            }
            return Self.json(200, #"{"type":"dns-01","url":"\#(url)","status":"processing","token":"x"}"#)
        }
        if path.hasPrefix("/finalize/") {
            let orderURL = "\(Self.base)/order/" + path.dropFirst("/finalize/".count)
            guard let order = lock.withLock({ orders[orderURL] }) else {
                return Self.problem(404, "malformed", "no such order")
            }
            guard order.status == "ready" else { return Self.problem(403, "orderNotReady", "order is \(order.status)") }
            guard let csrText = payload["csr"] as? String, let der = Base64URL.decode(csrText) else {
                return Self.problem(400, "badCSR", "no csr")
            }
            let csr = try CertificateSigningRequest(derEncoded: der)
            let tampering = lock.withLock { self.tampering }
            let pem = try ca.issue(
                names: order.domains + (tampering == .extraName ? ["extra.example.test"] : []),
                publicKey: tampering == .foreignKey
                    ? try SigningKey.generate(.ecdsaP256).certificatePrivateKey.publicKey : csr.publicKey,
                notBefore: now(), lifetime: lifetime,
                chainedTo: tampering == .brokenLink ? try TestCA().certificate : nil)
            let certificateURL = "\(Self.base)/cert/" + path.dropFirst("/finalize/".count)
            lock.withLock {
                orders[orderURL] = ("valid", order.domains, certificateURL)
                certificates[certificateURL] = pem
            }
            return Self.json(200, orderJSON(orderURL))
        }
        if path.hasPrefix("/cert/") {
            guard let pem = lock.withLock({ certificates[url] }) else {
                return Self.problem(404, "malformed", "no such certificate")
            }
            return HTTPResponseData(
                status: 200, headers: [("Content-Type", "application/pem-certificate-chain")], body: Array(pem.utf8))
        }
        if path.hasPrefix("/ari/") {
            let certID = String(path.dropFirst("/ari/".count))
            guard let answer = lock.withLock({ ariHandler })(certID) else {
                return Self.problem(404, "malformed", "unknown certID")
            }
            let body =
                #"{"suggestedWindow":{"start":"\#(Self.rfc3339(answer.start))","end":"\#(Self.rfc3339(answer.end))"}}"#
            return Self.json(200, body, headers: answer.retryAfter.map { [("Retry-After", "\($0)")] } ?? [])
        }
        return Self.problem(404, "malformed", "unknown URL \(url)")
    }

    private func directoryJSON() -> String {
        var fields = [
            #""newNonce":"https://ca.test/nonce""#, #""newAccount":"https://ca.test/new-acct""#,
            #""newOrder":"https://ca.test/new-order""#, #""revokeCert":"https://ca.test/revoke""#,
            #""keyChange":"https://ca.test/key-change""#,
        ]
        if offersARI { fields.append(#""renewalInfo":"https://ca.test/ari/""#) }
        if let profiles {
            let entries = profiles.sorted { $0.key < $1.key }.map { #""\#($0.key)":"\#($0.value)""# }
            fields.append(#""meta":{"profiles":{\#(entries.joined(separator: ","))}}"#)
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    private func orderJSON(_ url: String) -> String {
        let (order, authorizationURLs) = lock.withLock { (orders[url]!, orderAuthorizations[url] ?? []) }
        let id = url.split(separator: "/").last!
        let identifiers = order.domains.map { #"{"type":"dns","value":"\#($0)"}"# }.joined(separator: ",")
        let authorizationList = authorizationURLs.map { #""\#($0)""# }.joined(separator: ",")
        var fields = [
            #""status":"\#(order.status)""#, #""identifiers":[\#(identifiers)]"#,
            #""authorizations":[\#(authorizationList)]"#,
            #""finalize":"\#(Self.base)/finalize/\#(id)""#,
        ]
        if let certificate = order.certificate { fields.append(#""certificate":"\#(certificate)""#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func json(_ status: Int, _ body: String, headers: [(String, String)] = []) -> HTTPResponseData {
        HTTPResponseData(
            status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(body.utf8))
    }

    static func problem(_ status: Int, _ type: String, _ detail: String, headers: [(String, String)] = [])
        -> HTTPResponseData
    {
        HTTPResponseData(
            status: status, headers: [("Content-Type", "application/problem+json")] + headers,
            body: Array(#"{"type":"urn:ietf:params:acme:error:\#(type)","detail":"\#(detail)"}"#.utf8))
    }

    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    private static func decodePayload(_ body: [UInt8]) -> ([String: Any], String) {
        guard !body.isEmpty,
            let outer = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let payload = outer["payload"] as? String, let bytes = Base64URL.decode(payload)
        else { return ([:], "") }
        let text = String(decoding: bytes, as: UTF8.self)
        let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
        return (object ?? [:], text)
    }
}

/// A small CA made with swift-certificates: issues leaves with an Authority Key Identifier (so ARI CertIDs exist).
struct TestCA: Sendable {
    static let keyIdentifier: [UInt8] = Array(repeating: 0xA5, count: 20)
    let key: SigningKey
    let certificate: Certificate

    init() throws {
        key = try SigningKey.generate(.ecdsaP256)
        let epoch = Date(timeIntervalSince1970: 1_000_000_000)
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.certificatePrivateKey.publicKey,
            notValidBefore: epoch, notValidAfter: epoch.addingTimeInterval(100 * 365 * 86_400),
            issuer: try DistinguishedName { CommonName("certkeeper test CA") },
            subject: try DistinguishedName { CommonName("certkeeper test CA") }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                SubjectKeyIdentifier(keyIdentifier: Self.keyIdentifier[...])
            }, issuerPrivateKey: key.certificatePrivateKey)
    }

    /// A PEM full chain (leaf, CA) for `publicKey`; `chainedTo` replaces the CA certificate after the leaf.
    func issue(
        names: [String], publicKey: Certificate.PublicKey, notBefore: Date, lifetime: TimeInterval,
        chainedTo: Certificate? = nil
    ) throws -> String {
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: notBefore, notValidAfter: notBefore.addingTimeInterval(lifetime),
            issuer: certificate.subject, subject: try DistinguishedName { CommonName(names[0]) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
                AuthorityKeyIdentifier(keyIdentifier: Self.keyIdentifier[...])
            }, issuerPrivateKey: key.certificatePrivateKey)
        return try [leaf, chainedTo ?? certificate].map { try $0.serializeAsPEM().pemString }
            .joined(separator: "\n") + "\n"
    }

    /// A key and full chain as an operator would have them from another client (for adoption tests).
    func issue(names: [String], keyType: KeyType = .ecdsaP256, notBefore: Date, lifetime: TimeInterval) throws
        -> (key: SigningKey, fullchainPEM: String)
    {
        let leafKey = try SigningKey.generate(keyType)
        let pem = try issue(
            names: names, publicKey: leafKey.certificatePrivateKey.publicKey, notBefore: notBefore, lifetime: lifetime)
        return (leafKey, pem)
    }
}
