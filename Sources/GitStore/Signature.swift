import CGit2

/// Who made a commit and when: a fixed value, never "now", so commit ids are reproducible.
public struct Signature: Sendable, Hashable, Codable {
    /// The person's name.
    public var name: String
    /// The person's e-mail address.
    public var email: String
    /// Seconds since 1970-01-01T00:00:00Z.
    public var time: Int64
    /// The time-zone offset from UTC in minutes (for example 120 for +0200).
    public var offsetMinutes: Int32

    /// Creates a signature.
    /// - Parameters:
    ///   - name: the person's name.
    ///   - email: the person's e-mail address.
    ///   - time: seconds since the Unix epoch.
    ///   - offsetMinutes: the time-zone offset from UTC in minutes.
    public init(name: String, email: String, time: Int64, offsetMinutes: Int32 = 0) {
        self.name = name
        self.email = email
        self.time = time
        self.offsetMinutes = offsetMinutes
    }

    init(_ signature: UnsafePointer<git_signature>) {
        name = String(cString: signature.pointee.name)
        email = String(cString: signature.pointee.email)
        time = signature.pointee.when.time
        offsetMinutes = signature.pointee.when.offset
    }

    /// The signature as an owned libgit2 value.
    func handle() throws -> SignatureHandle {
        var out: UnsafeMutablePointer<git_signature>?
        try check("git_signature_new", git_signature_new(&out, name, email, time, offsetMinutes),
                  hint: "a signature needs a non-empty name and e-mail without angle brackets or newlines")
        guard let out else { throw GitError(kind: .libgit2, function: "git_signature_new", message: "no signature returned") }
        return SignatureHandle(out)
    }
}

/// One `Key: value` trailer at the end of a commit message.
public struct Trailer: Sendable, Hashable, Codable {
    /// The trailer's key (for example `Step`).
    public var key: String
    /// The trailer's value (one line).
    public var value: String

    /// Creates a trailer.
    /// - Parameters:
    ///   - key: the key (letters, digits and dashes).
    ///   - value: the value (one line).
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Reads the trailers of a commit message, as git does (`git interpret-trailers --parse`).
    /// - Parameter message: a whole commit message.
    /// - Returns: the trailers in order; empty when the message has none.
    /// - Throws: `GitError` when libgit2 cannot parse the message.
    public static func parse(_ message: String) throws -> [Trailer] {
        Libgit2.ensure()
        var array = git_message_trailer_array()
        try check("git_message_trailers", git_message_trailers(&array, message))
        defer { git_message_trailer_array_free(&array) }
        return (0..<array.count).map { i in
            let t = array.trailers[i]
            return Trailer(key: String(cString: t.key), value: String(cString: t.value))
        }
    }

    /// Builds a commit message: the body, a blank line, then one `Key: value` line per trailer.
    /// - Parameters:
    ///   - body: the message without trailers (subject, blank line, text).
    ///   - trailers: the trailers to append, in order.
    /// - Returns: the message, ending in one newline.
    /// - Throws: `GitError` when a key is not made of letters, digits and dashes, or a value spans
    ///   several lines.
    public static func message(_ body: String, trailers: [Trailer]) throws -> String {
        var text = body
        while text.last?.isWhitespace == true { text.removeLast() }
        text += "\n"
        guard !trailers.isEmpty else { return text }
        text += "\n"
        for trailer in trailers {
            let validKey = !trailer.key.isEmpty && trailer.key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            guard validKey else {
                throw GitError(kind: .invalidInput, function: "Trailer.message", message: "trailer key '\(trailer.key)' is not made of letters, digits and dashes",
                               hint: "use a key such as 'Step' or 'Reviewed-by'")
            }
            guard !trailer.value.contains(where: \.isNewline), !trailer.value.isEmpty else {
                throw GitError(kind: .invalidInput, function: "Trailer.message", message: "trailer '\(trailer.key)' has an empty or multi-line value",
                               hint: "give each trailer a value of one non-empty line")
            }
            text += "\(trailer.key): \(trailer.value)\n"
        }
        return text
    }
}

/// One commit as a plain value, as `Repository.log(from:)` returns it.
public struct CommitInfo: Sendable, Hashable, Codable {
    /// The commit's id.
    public var id: ObjectID
    /// The tree the commit records.
    public var tree: ObjectID
    /// The parents, first parent first.
    public var parents: [ObjectID]
    /// Who wrote the change.
    public var author: Signature
    /// Who committed it.
    public var committer: Signature
    /// The whole message, trailers included.
    public var message: String
    /// The trailers at the end of the message.
    public var trailers: [Trailer]

    /// The first line of the message.
    public var summary: String { String(message.prefix { $0 != "\n" }) }

    /// Creates a commit value.
    public init(id: ObjectID, tree: ObjectID, parents: [ObjectID], author: Signature, committer: Signature, message: String, trailers: [Trailer]) {
        self.id = id
        self.tree = tree
        self.parents = parents
        self.author = author
        self.committer = committer
        self.message = message
        self.trailers = trailers
    }
}
