import Testing
@testable import Report

@Suite struct StatisticsTests {
    @Test func wilsonMatchesPublishedValues() throws {
        // Reference values computed by hand from the Wilson formula (z = 1.96).
        let interval = try #require(Proportion(successes: 5, trials: 10).wilson())
        #expect(abs(interval.lowerBound - 0.2366) < 1e-4)
        #expect(abs(interval.upperBound - 0.7634) < 1e-4)
    }

    @Test func wilsonStaysInsideUnitIntervalAtTheEdges() throws {
        let none = try #require(Proportion(successes: 0, trials: 12).wilson())
        #expect(none.lowerBound == 0)
        #expect(abs(none.upperBound - 0.2425) < 1e-4)
        let all = try #require(Proportion(successes: 12, trials: 12).wilson())
        #expect(all.upperBound == 1)
        #expect(abs(all.lowerBound - 0.7575) < 1e-4)
    }

    @Test func noTrialsHasNoRateAndNoInterval() {
        let empty = Proportion(successes: 0, trials: 0)
        #expect(empty.rate == nil)
        #expect(empty.wilson() == nil)
    }

    @Test func meanAndStandardError() throws {
        let estimate = MeanEstimate([2, 4, 4, 4, 5, 5, 7, 9])
        #expect(estimate.mean == 5)
        // sample sd = sqrt(32/7); se = sd / sqrt(8)
        let se = try #require(estimate.standardError)
        #expect(abs(se - (32.0 / 7.0).squareRoot() / 8.0.squareRoot()) < 1e-12)
        #expect(MeanEstimate([3]).standardError == nil)
        #expect(MeanEstimate([]).mean == nil)
    }
}
