public import Foundation

/// An ARI renewal information response (RFC 9773 §4.2).
public struct RenewalInfo: Sendable, Hashable, Codable {
    public var suggestedWindow: SuggestedWindow
    public var explanationURL: String?

    /// The suggested renewal window. A window with `end <= start` is invalid (see ``isValid``).
    public struct SuggestedWindow: Sendable, Hashable, Codable {
        public var start: Date
        public var end: Date

        public init(start: Date, end: Date) {
            self.start = start
            self.end = end
        }
    }

    public init(suggestedWindow: SuggestedWindow, explanationURL: String? = nil) {
        self.suggestedWindow = suggestedWindow
        self.explanationURL = explanationURL
    }

    /// False when `end <= start`; RFC 9773 says to treat such a response as absent.
    public var isValid: Bool { suggestedWindow.end > suggestedWindow.start }
}
