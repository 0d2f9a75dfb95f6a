import CertkeeperConfig
import Synchronization

/// The daemon's memory of each certificate's ``CertificateFacts``, so that the one-line status (`STATUS=`, rebuilt
/// after every change) does not read every state file and parse every installed certificate again.
///
/// The ``CertificateMaintainer`` records what each attempt ends with; a certificate not seen yet is read from disk
/// once (``StatusReport/live(configuration:facts:stateDirectory:stateStore:scheduler:rejectedSpecs:now:)``). Facts are kept
/// for the version of the spec they were read for: an edited spec (other install paths) is read again.
/// `certkeeper status` still reads everything from disk.
package final class CertificateFactsBoard: Sendable {
    private let facts = Mutex<[String: (spec: CertificateSpec, facts: CertificateFacts)]>([:])

    package init() {}

    /// Remembers what `spec`'s certificate looks like now.
    package func record(_ spec: CertificateSpec, _ value: CertificateFacts) {
        facts.withLock { $0[spec.name] = (spec, value) }
    }

    /// The facts recorded for this version of `spec`, or nil.
    package func facts(for spec: CertificateSpec) -> CertificateFacts? {
        facts.withLock { known in
            guard let entry = known[spec.name], entry.spec == spec else { return nil }
            return entry.facts
        }
    }

    /// Forgets certificates no longer configured.
    package func keep(only names: Set<String>) {
        facts.withLock { known in
            for name in known.keys where !names.contains(name) { known[name] = nil }
        }
    }

    /// How many certificates have facts.
    package var count: Int { facts.withLock { $0.count } }
}
