import Foundation

/// An ARI renewal information response (RFC 9773 §4.2).
package struct RenewalInfo: Sendable, Hashable, Codable {
    package var suggestedWindow: SuggestedWindow
    package var explanationURL: String?

    /// The suggested renewal window. A window with `end <= start` is invalid (see ``isValid``).
    package struct SuggestedWindow: Sendable, Hashable, Codable {
        package var start: Date
        package var end: Date

        package init(start: Date, end: Date) {
            self.start = start
            self.end = end
        }
    }

    package init(suggestedWindow: SuggestedWindow, explanationURL: String? = nil) {
        self.suggestedWindow = suggestedWindow
        self.explanationURL = explanationURL
    }

    /// False when `end <= start`; RFC 9773 says to treat such a response as absent.
    package var isValid: Bool { suggestedWindow.end > suggestedWindow.start }
}
