import CertkeeperConfig

/// What a reload did, computed from the previous configuration and a fresh load.
package struct ReloadOutcome: Sendable {
    /// The configuration now in force.
    package var configuration: Configuration
    /// True when anything was rejected (the reload "failed", though good parts were applied).
    package var failed: Bool
    /// Every problem found, in file order.
    package var diagnostics: [ConfigDiagnostic]
    package var added: [String]
    package var removed: [String]
    package var changed: [String]
    /// Specs whose new version has errors and whose last good version stays in force.
    package var keptLastGood: [String]
    /// New specs that have errors and therefore did not start.
    package var rejectedNew: [String]
}

/// Reload semantics: a broken spec keeps its last good version; a broken certkeeper.toml keeps everything.
package enum ConfigMerge {
    /// Merges a fresh load into the configuration in force.
    ///
    /// - An error in certkeeper.toml keeps the whole previous configuration.
    /// - A spec with errors keeps its last good version; a new spec with errors does not start.
    /// - A spec whose file is gone is dropped (its certificate files stay on disk).
    package static func merge(previous: Configuration?, result: ConfigLoadResult) -> ReloadOutcome? {
        let diagnostics = result.allDiagnostics
        guard var next = result.configuration else {
            guard let previous else { return nil }
            return ReloadOutcome(
                configuration: previous, failed: true, diagnostics: diagnostics, added: [], removed: [],
                changed: [], keptLastGood: [], rejectedNew: [])
        }
        var kept: [String] = []
        var rejected: [String] = []
        for name in result.specDiagnostics.keys.sorted() where next.certificates[name] == nil {
            if let lastGood = previous?.certificates[name] {
                next.certificates[name] = lastGood
                kept.append(name)
            } else {
                rejected.append(name)
            }
        }
        let before = previous?.certificates ?? [:]
        let added = next.certificates.keys.filter { before[$0] == nil }.sorted()
        let removed = before.keys.filter { next.certificates[$0] == nil }.sorted()
        let changed = next.certificates.keys.filter { name in
            guard let old = before[name] else { return false }
            return old != next.certificates[name]
        }.sorted()
        return ReloadOutcome(
            configuration: next, failed: !diagnostics.isEmpty, diagnostics: diagnostics, added: added,
            removed: removed, changed: changed, keptLastGood: kept, rejectedNew: rejected)
    }

    /// Rejects specs after loading (e.g. a profile the CA does not offer): each keeps its last good version from
    /// `previous` when there is one, otherwise it does not start. The outcome counts as failed.
    package static func rejecting(
        _ rejections: [String: ConfigDiagnostic], in outcome: ReloadOutcome, previous: Configuration?
    ) -> ReloadOutcome {
        guard !rejections.isEmpty else { return outcome }
        var result = outcome
        for name in rejections.keys.sorted() {
            guard result.configuration.certificates[name] != nil else { continue }
            if let lastGood = previous?.certificates[name], lastGood != result.configuration.certificates[name] {
                result.configuration.certificates[name] = lastGood
                result.changed.removeAll { $0 == name }
                if !result.keptLastGood.contains(name) { result.keptLastGood.append(name) }
            } else {
                result.configuration.certificates[name] = nil
                result.added.removeAll { $0 == name }
                result.changed.removeAll { $0 == name }
                if previous?.certificates[name] != nil {
                    if !result.removed.contains(name) { result.removed.append(name) }
                }
                if !result.rejectedNew.contains(name) { result.rejectedNew.append(name) }
            }
        }
        result.keptLastGood.sort()
        result.rejectedNew.sort()
        result.removed.sort()
        result.diagnostics += rejections.keys.sorted().compactMap { rejections[$0] }
        result.failed = true
        return result
    }

    /// The outcome of the first load at start-up (nothing to merge with), so start-up checks can use ``rejecting``.
    package static func initial(_ configuration: Configuration) -> ReloadOutcome {
        ReloadOutcome(
            configuration: configuration, failed: false, diagnostics: [],
            added: configuration.certificates.keys.sorted(), removed: [], changed: [], keptLastGood: [],
            rejectedNew: [])
    }
}
