/// The one error type of the gateway module: what went wrong, where, and what to do.
///
/// Upstream failures, refusals and replay misses met while serving a request are not thrown: they
/// are answered to the client as JSON and reported as ``GatewayEvent``s. This error is thrown only
/// for what the caller itself asked and the gateway could not do (a bad configuration, a price
/// table that does not parse, a store that cannot be written, a socket that cannot be served).
public struct GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: String, Sendable, Equatable {
        /// An upstream, episode or gateway setting is invalid.
        case invalidConfiguration
        /// The price table file does not parse or holds an invalid entry.
        case invalidPriceTable
        /// The exchange store could not be read or written.
        case store
        /// The server could not listen on the socket or address.
        case server
    }

    /// The kind of failure.
    public let kind: Kind
    /// What happened, where (a path, a setting name, an episode) and what to do.
    public let message: String

    /// Makes an error.
    /// - Parameters:
    ///   - kind: the kind of failure.
    ///   - message: what happened, where and what to do.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
