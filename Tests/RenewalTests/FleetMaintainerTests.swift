import ACMEClient
import CertStore
import CertkeeperConfig
import Foundation
import Renewal
import TestSupport
import Testing

/// Nodes of a fleet (maintainers with their own installed files over shared state, accounts and published
/// certificates): what one node issued is installed by the others without an order; a node with another spec of the
/// same name orders nothing and says why.
@Suite struct FleetMaintainerTests {
    @Test func anotherNodeInstallsWhatOneIssuedWithoutOrdering() async throws {
        let h = try MaintainerHarness()
        let shared = MemorySharedCertificateStore()
        let a = try h.fleetNode("node-a", shared: shared)
        let b = try h.fleetNode("node-b", shared: shared)
        let spec = h.spec()

        _ = await a.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.count == 1)
        let issued = try #require(InstalledCertificateReader.read(spec: spec, stateDirectory: a.stateDirectory))
        #expect(await shared.latest(name: "www")?.serial == issued.info.serialHex)
        #expect(await shared.latest(name: "www")?.publishedBy == "node-a")

        let next = await b.maintainer.process(spec, force: false)
        let installed = try #require(InstalledCertificateReader.read(spec: spec, stateDirectory: b.stateDirectory))
        #expect(installed.info.serialHex == issued.info.serialHex)
        #expect(installed.keyMatches)
        #expect(h.server.newOrders.count == 1)
        #expect(h.logs.contains("installed the certificate node node-a issued"))
        // Both nodes now wait for the same planned renewal, kept in the shared state.
        #expect(next > h.clock.now())
        #expect(await h.state(spec)?.schedule?.serial == issued.info.serialHex)

        // A forced renewal on node B is one order, and node A then installs B's certificate.
        _ = await b.maintainer.process(spec, force: true)
        #expect(h.server.newOrders.count == 2)
        let renewed = try #require(InstalledCertificateReader.read(spec: spec, stateDirectory: b.stateDirectory))
        _ = await a.maintainer.process(spec, force: false)
        #expect(
            InstalledCertificateReader.read(spec: spec, stateDirectory: a.stateDirectory)?.info.serialHex
                == renewed.info.serialHex)
        #expect(h.server.newOrders.count == 2)
    }

    @Test func aPublishedCertificateThatDoesNotFitThisNodesSpecIsNotInstalled() async throws {
        let h = try MaintainerHarness()
        let shared = MemorySharedCertificateStore()
        let a = try h.fleetNode("node-a", shared: shared)
        let b = try h.fleetNode("node-b", shared: shared)
        _ = await a.maintainer.process(h.spec(), force: false)
        let other = h.spec(domains: ["www.example.test", "api.example.test"])
        _ = await b.maintainer.process(other, force: false)
        #expect(h.logs.contains("does not fit this node's spec"))
        let installed = InstalledCertificateReader.read(spec: other, stateDirectory: b.stateDirectory)
        #expect(installed?.info.dnsNames.sorted() != ["www.example.test"])
    }

    @Test func aNodeWithAnotherSpecOfTheSameNameOrdersNothing() async throws {
        let h = try MaintainerHarness()
        let shared = MemorySharedCertificateStore()
        let registry = MemoryFleetSpecRegistry()
        let a = try h.fleetNode("node-a", shared: shared, specs: registry)
        let b = try h.fleetNode("node-b", shared: shared, specs: registry)
        _ = await a.maintainer.process(h.spec(), force: false)
        #expect(h.server.newOrders.count == 1)
        let other = h.spec(domains: ["www.example.test", "api.example.test"])
        let next = await b.maintainer.process(other, force: false)
        #expect(h.server.newOrders.count == 1)
        #expect(InstalledCertificateReader.read(spec: other, stateDirectory: b.stateDirectory) == nil)
        let state = try #require(await h.state(other))
        #expect(state.backoff?.lastError.contains("the spec of www differs on node(s) node-a") == true)
        // Looked at again soon (a rolling change ends by itself), not parked until a reload.
        #expect(next < h.clock.now().addingTimeInterval(3600))
    }
}
