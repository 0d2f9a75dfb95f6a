import Crypto
import Synchronization

/// What parsing and checking one spec file produced, kept between reloads so that a reload parses only the files
/// that changed.
///
/// A spec's result depends only on its directory, its file name, its text and certkeeper.toml (``SpecParser`` reads
/// nothing else: no environment, no other file), so an entry is reused when the directory is the same and the SHA-256
/// of the spec's text and of certkeeper.toml's text are both unchanged, and dropped when its file is gone. Entries
/// are keyed by file name; the directory and certkeeper.toml's digest are kept once, for all of them: every entry of
/// a load was read from that directory and checked against that certkeeper.toml (a copy of each per entry was about
/// 150 bytes per spec). Parsing is also where memory went: TOMLKit never frees a parsed document (about 1.2 KB per
/// spec file), so re-parsing 10,000 unchanged files at every reload grew the daemon by 12 MB a reload.
package final class SpecParseCache: Sendable {
    struct Entry {
        var textDigest: SHA256Digest
        var spec: SpecParser.Parsed?
        var diagnostics: [ConfigDiagnostic]
    }

    private let entries = Mutex<(byFileName: [String: Entry], directory: String, mainDigest: SHA256Digest?)>(
        ([:], "", nil))

    package init() {}

    /// How many spec files have a cached result.
    package var count: Int { entries.withLock { $0.byFileName.count } }

    /// Spec files answered from the cache since it was made (for tests).
    package var hits: Int { counters.withLock { $0.hits } }
    /// Spec files parsed since the cache was made (for tests).
    package var parses: Int { counters.withLock { $0.parses } }
    private let counters = Mutex<(hits: Int, parses: Int)>((0, 0))

    static func digest(_ text: String) -> SHA256Digest { SHA256.hash(data: Array(text.utf8)) }

    /// The cached result for the spec file `fileName` in `directory` when its text and certkeeper.toml are those it
    /// was parsed from.
    func lookup(_ fileName: String, in directory: String, textDigest: SHA256Digest, mainDigest: SHA256Digest?)
        -> Entry?
    {
        let entry = entries.withLock {
            $0.directory == directory && $0.mainDigest == mainDigest ? $0.byFileName[fileName] : nil
        }
        guard let entry, entry.textDigest == textDigest else { return nil }
        counters.withLock { $0.hits += 1 }
        return entry
    }

    /// The directory string the cached specs hold when it is `directory` (else `directory` itself): the specs a load
    /// parses then hold the same string as those it takes from the cache, not one string per load.
    func sharedDirectory(_ directory: String) -> String {
        entries.withLock { $0.directory == directory ? $0.directory : directory }
    }

    /// Keeps exactly `current` (one entry per spec file this load read from `directory`, all checked against
    /// certkeeper.toml with `mainDigest`): files that are gone are forgotten.
    func replace(with current: [String: Entry], directory: String, mainDigest: SHA256Digest?, parsed: Int) {
        entries.withLock { $0 = (current, directory, mainDigest) }
        counters.withLock { $0.parses += parsed }
    }
}
