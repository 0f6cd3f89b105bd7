import Foundation

/// One part of a suite's episodes, `I/N`: shard `I` (from 0) of `N`.
///
/// The partition is a pure function of the episode ids: the suite's episode ids are sorted (by
/// their UTF-8 bytes) and the episode at sorted position `p` belongs to shard `p mod N`. It does
/// not depend on suite order beyond the ids, on timing or on which shard finishes first, so every
/// node computes the same partition, and the shards of a suite cover each episode exactly once.
public struct ShardSpec: Sendable, Hashable, CustomStringConvertible {
    /// The partition rule's name, recorded in `run.json` so a later driftbox can tell it apart.
    public static let rule = "sorted-id-mod-v1"
    /// The most shards of one suite.
    public static let maximumCount = 100_000

    /// The shard's index, from 0 to `count - 1`.
    public var index: Int
    /// The number of shards.
    public var count: Int

    /// Creates `index/count`.
    /// - Throws: `RunStoreError.invalid` when `count` is not from 1 to ``maximumCount`` or `index`
    ///   not from 0 to `count - 1`.
    public init(index: Int, count: Int) throws {
        guard (1...Self.maximumCount).contains(count) else {
            throw RunStoreError.invalid(path: "--shard", reason: "\(index)/\(count) has \(count) shards", hint: "give from 1 to \(Self.maximumCount) shards")
        }
        guard (0..<count).contains(index) else {
            throw RunStoreError.invalid(path: "--shard", reason: "\(index)/\(count) names shard \(index) of \(count)",
                                        hint: "shards are numbered from 0 to \(count - 1) (Slurm's array index, Kubernetes' JOB_COMPLETION_INDEX)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`.
    /// - Throws: `RunStoreError.invalid` for another form or an index out of range.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), parts.allSatisfy({ $0.allSatisfy(\.isASCII) }) else {
            throw RunStoreError.invalid(path: "--shard", reason: "'\(text)' is not I/N", hint: "give the shard as I/N, e.g. 0/4 for the first of four shards")
        }
        try self.init(index: index, count: count)
    }

    /// `I/N`.
    public var description: String { "\(index)/\(count)" }

    /// The shard each episode belongs to, by the rule above.
    /// - Parameters:
    ///   - ids: every episode id of the suite (order does not matter; ids are unique).
    ///   - count: the number of shards.
    /// - Returns: episode id → shard index.
    public static func partition(_ ids: [String], count: Int) -> [String: Int] {
        let sorted = ids.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var shards: [String: Int] = [:]
        for (position, id) in sorted.enumerated() { shards[id] = position % max(1, count) }
        return shards
    }

    /// The ids of `ids` that belong to this shard, in their given order.
    public func select(_ ids: [String]) -> [String] {
        let shards = Self.partition(ids, count: count)
        return ids.filter { shards[$0] == index }
    }
}

extension RunManifest {
    /// What makes a run folder one shard of a suite.
    public struct ShardEntry: Sendable, Hashable, Codable {
        /// The shard's index, from 0.
        public var index: Int
        /// The number of shards.
        public var count: Int
        /// The partition rule (``ShardSpec/rule``).
        public var rule: String
        /// The number of episodes of the whole suite (all shards together).
        public var suiteEpisodes: Int

        /// Creates the entry from its fields (named as the properties).
        public init(index: Int, count: Int, rule: String, suiteEpisodes: Int) {
            self.index = index
            self.count = count
            self.rule = rule
            self.suiteEpisodes = suiteEpisodes
        }

        /// `I/N`.
        public var label: String { "\(index)/\(count)" }
    }

    /// What a merged run was made from (`driftbox merge`).
    public struct MergeEntry: Sendable, Hashable, Codable {
        /// One shard merged in.
        public struct Part: Sendable, Hashable, Codable {
            /// The shard's index.
            public var index: Int
            /// The shard's run id.
            public var runID: String
            /// The shard's folder when it was merged (absolute).
            public var folder: String
            /// When the shard's run began.
            public var created: String
            /// The shard's episodes.
            public var episodes: [String]
            /// How many of them had ended when it was merged.
            public var ended: Int

            /// Creates the entry from its fields (named as the properties).
            public init(index: Int, runID: String, folder: String, created: String, episodes: [String], ended: Int) {
                self.index = index
                self.runID = runID
                self.folder = folder
                self.created = created
                self.episodes = episodes
                self.ended = ended
            }
        }

        /// The number of shards of the suite.
        public var count: Int
        /// The partition rule.
        public var rule: String
        /// The number of episodes of the whole suite.
        public var suiteEpisodes: Int
        /// The shards merged so far, by index.
        public var shards: [Part]
        /// True while a merge writes the run: set before the log and refs change, cleared after.
        /// A run left with it set was interrupted mid-merge; repeating the merge completes it.
        public var pending: Bool
        /// When the last merge finished.
        public var updated: String

        /// Creates the entry from its fields (named as the properties).
        public init(count: Int, rule: String, suiteEpisodes: Int, shards: [Part], pending: Bool, updated: String) {
            self.count = count
            self.rule = rule
            self.suiteEpisodes = suiteEpisodes
            self.shards = shards
            self.pending = pending
            self.updated = updated
        }
    }
}
