import ACMEClient
import ACMEModels
import CertStore
import CertkeeperConfig
import CertkeeperLogging
import Foundation
import Logging

extension CertificateMaintainer {
    /// Installs the fleet's certificate for `spec` when one was published that is not what is installed here and
    /// lasts at least as long (another node ordered it, or this node before a crash). Returns what is installed afterwards, or
    /// nil when nothing was done. A published certificate that does not fit this node's spec (other names, a key
    /// that is not the leaf's) is reported and left alone.
    func installPublished(
        _ spec: CertificateSpec, installed: InstalledCertificate?, machine: inout CertificateLifecycle,
        random: inout some RandomNumberGenerator, metadata: Logger.Metadata
    ) async throws -> InstalledCertificate? {
        guard let shared, let published = try await shared.latest(name: spec.name) else { return nil }
        if let installed {
            guard published.serial != installed.info.serialHex, published.notAfter >= installed.info.notAfter else {
                return nil
            }
        }
        let now = clock.now()
        let certificate: IssuedCertificate
        do {
            certificate = try IssuedCertificate(shared: published, spec: spec, now: now)
        } catch {
            logger.warning(
                "the fleet's certificate for \(spec.name) (serial \(published.serial), from node \(published.publishedBy)) does not fit this node's spec: \(error); do all nodes have the same spec?",
                metadata: metadata)
            return nil
        }
        let paths = try await install(certificate, spec: spec)
        if machine.state.schedule?.serial != certificate.info.serialHex {
            // The node that ordered it did not get to record it (it crashed after publishing): record it here.
            _ = machine.handle(.installed(Self.facts(certificate)), now: now, random: &random)
            machine.ended(nextCheck: now)
            await save(machine.state, spec: spec)
        }
        logger.notice(
            "installed the certificate node \(published.publishedBy) issued for \(spec.domains.joined(separator: ", ")), valid until \(certificate.info.notAfter), at \(paths.fullchain)",
            metadata: metadata.merging([LogKey.notAfter: .string(ACMEJSON.formatRFC3339(certificate.info.notAfter))]) {
                $1
            })
        if !spec.hooks.run.isEmpty {
            _ = await hooks.runDeployHooks(
                spec.hooks.run, certificate: spec.name, domains: spec.domains, paths: paths,
                timeout: .seconds(spec.hooks.timeoutSeconds), logger: logger)
        }
        await reloads.add(spec.hooks.reloadUnits)
        progress?.publish(spec.name, .installed(notAfter: certificate.info.notAfter, fullchain: paths.fullchain))
        return await InstalledCertificateReader.load(spec: spec, stateDirectory: stateDirectory)
    }
}
