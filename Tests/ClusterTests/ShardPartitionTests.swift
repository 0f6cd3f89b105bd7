import Runner
import Testing

/// The partition of a suite's episodes into shards: a pure function of the episode ids.
struct ShardPartitionTests {
    @Test func everyEpisodeInExactlyOneShard() throws {
        let ids = (0..<37).map { "scenario-\($0 % 5).agent.\($0)" }
        for count in [1, 2, 3, 7, 37] {
            var seen: [String: Int] = [:]
            for index in 0..<count {
                for id in try ShardSpec(index: index, count: count).select(ids) {
                    #expect(seen[id] == nil, "\(id) in two shards of \(count)")
                    seen[id] = index
                }
            }
            #expect(Set(seen.keys) == Set(ids))
            // Balanced: shard sizes differ by at most one.
            let sizes = Dictionary(grouping: seen.values, by: { $0 }).values.map(\.count)
            #expect(sizes.max()! - sizes.min()! <= 1)
        }
    }

    @Test func dependsOnTheIdsNotOnTheirOrder() throws {
        let ids = ["b.demo.0", "a.demo.1", "a.demo.0", "c.demo.0", "b.demo.1"]
        let shuffled = ids.reversed() + []
        #expect(ShardSpec.partition(ids, count: 2) == ShardSpec.partition(shuffled, count: 2))
        // Sorted by bytes: a.demo.0 a.demo.1 b.demo.0 b.demo.1 c.demo.0 → 0 1 0 1 0.
        #expect(ShardSpec.partition(ids, count: 2) == ["a.demo.0": 0, "a.demo.1": 1, "b.demo.0": 0, "b.demo.1": 1, "c.demo.0": 0])
        #expect(try ShardSpec(index: 1, count: 2).select(ids) == ["a.demo.1", "b.demo.1"])
    }

    @Test func parsesIOverN() throws {
        #expect(try ShardSpec(parsing: "0/4") == ShardSpec(index: 0, count: 4))
        #expect(try ShardSpec(parsing: "3/4").description == "3/4")
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", "", "1/"] {
            #expect(throws: RunStoreError.self, "\(bad)") { try ShardSpec(parsing: bad) }
        }
    }
}
