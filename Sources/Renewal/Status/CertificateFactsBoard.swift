import CertkeeperConfig
import Synchronization

/// The daemon's memory of each certificate's ``CertificateFacts``, so that the one-line status (`STATUS=`, rebuilt
/// after every change) does not read every state file and parse every installed certificate again.
///
/// The ``CertificateMaintainer`` records what each attempt ends with; a certificate not seen yet is read from disk
/// once (``StatusReport/live(configuration:facts:stateDirectory:stateStore:scheduler:rejectedSpecs:now:)``). Facts are kept
/// for the version of the spec they were read for: an edited spec (other install paths) is read again.
/// `certkeeper status` still reads everything from disk.
///
/// The root name of each chain is kept once per distinct name (up to ``maxRootNames`` of them): every certificate
/// from one CA names the same root, and with 10,000 certificates a copy each was 0.6 MB.
package final class CertificateFactsBoard: Sendable {
    private struct Known {
        var byName: [String: (spec: CertificateSpec, facts: CertificateFacts)] = [:]
        var rootNames: Set<String> = []
    }
    private let facts = Mutex(Known())
    /// How many distinct chain root names are shared; more (a CA answering with a new root each time) are kept per
    /// certificate.
    package static let maxRootNames = 64

    package init() {}

    /// Remembers what `spec`'s certificate looks like now.
    package func record(_ spec: CertificateSpec, _ value: CertificateFacts) {
        facts.withLock { known in
            var value = value
            if let root = value.chainRoot {
                if let shared = known.rootNames.firstIndex(of: root) {
                    value.chainRoot = known.rootNames[shared]
                } else if known.rootNames.count < Self.maxRootNames {
                    known.rootNames.insert(root)
                }
            }
            known.byName[spec.name] = (spec, value)
        }
    }

    /// The facts recorded for this version of `spec`, or nil.
    package func facts(for spec: CertificateSpec) -> CertificateFacts? {
        facts.withLock { known in
            guard let entry = known.byName[spec.name], entry.spec == spec else { return nil }
            return entry.facts
        }
    }

    /// Forgets certificates no longer configured.
    package func keep(only names: Set<String>) {
        facts.withLock { known in
            for name in known.byName.keys where !names.contains(name) { known.byName[name] = nil }
        }
    }

    /// How many certificates have facts.
    package var count: Int { facts.withLock { $0.byName.count } }
}
