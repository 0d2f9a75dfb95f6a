import Logging
import SafeFiles
import ServiceLifecycle

/// `metrics_textfile`: writes ``CertkeeperMetrics/exposition()`` to a file for node_exporter's textfile collector,
/// atomically (temp file, fsync, rename: the collector never reads half a file), mode 0644, after every change.
package struct MetricsTextfile: Service {
    package var metrics: CertkeeperMetrics
    package var path: String
    package var logger: Logger

    package init(metrics: CertkeeperMetrics, path: String, logger: Logger) {
        self.metrics = metrics
        self.path = path
        self.logger = logger
    }

    /// Writes the file once now.
    package func write() async {
        let bytes = metrics.exposition()
        do {
            try await BlockingIO.run { [path] in try AtomicFile.write(bytes, to: path, mode: 0o644) }
        } catch {
            logger.warning(
                "could not write metrics_textfile \(path): \(error); its directory must exist and be writable by certkeeper (under the shipped unit add ReadWritePaths= for it with `systemctl edit certkeeper`)"
            )
        }
    }

    package func run() async {
        let changes = metrics.changes()
        await write()
        await cancelWhenGracefulShutdown {
            for await _ in changes { await write() }
        }
    }
}
