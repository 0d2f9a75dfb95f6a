/// Opens once: the control socket listens and READY=1 went out. Services that must not act before wait here.
package actor Readiness {
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    package init() {}

    package func markReady() {
        open = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }

    /// Returns once ``markReady()`` ran (at once if it already did).
    package func wait() async {
        if open { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}
