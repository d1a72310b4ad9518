import Testing
@testable import Reports
import Simulation

@Suite("burnrate compare")
struct CompareTests {
    func option(_ name: String, spendP95: Double, overage: Double, continuity: Double) -> Comparison.Option {
        // One-replication summaries carry the value in every statistic.
        Comparison.Option(name: name, budgetCredits: 100, metrics: [
            "spend_credits": MetricSummary([spendP95])!, "overage_credits": MetricSummary([overage])!,
            "continuity": MetricSummary([continuity])!,
        ])
    }

    @Test func paretoMarksOnlyUndominatedOptionsAndSaysWhy() {
        let c = Comparison(options: [
            option("hard-stop", spendP95: 100, overage: 0, continuity: 0.90),
            option("overdraft", spendP95: 130, overage: 30, continuity: 0.99),
            option("top-up", spendP95: 140, overage: 30, continuity: 0.99),   // worse spend, same rest: dominated by overdraft
            option("degrade", spendP95: 100, overage: 0, continuity: 0.95),   // dominates hard-stop
        ], replications: 1)
        #expect(c.dominatedBy == [3, nil, 1, nil])
        let md = c.markdown
        #expect(md.contains("hard-stop: dominated — degrade is as good on every axis and has higher continuity"))
        #expect(md.contains("top-up: dominated — overdraft is as good on every axis and has lower p95 spend"))
        #expect(c.options[1].p95SpendOverBudget == 1.3)
        let json = c.json.rendered()
        #expect(json.contains("\"dominated_by\": \"degrade\"") && json.contains("\"pareto\": true"))
    }

    @Test func identicalOptionsAreBothEfficient() {
        let c = Comparison(options: [option("a", spendP95: 100, overage: 0, continuity: 0.9),
                                     option("b", spendP95: 100, overage: 0, continuity: 0.9)], replications: 1)
        #expect(c.dominatedBy == [nil, nil])
        #expect(c.chart.contains("a = b"))
    }
}
