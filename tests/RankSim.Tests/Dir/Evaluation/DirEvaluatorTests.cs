namespace RankSim.Tests.Dir.Evaluation;

public class DirEvaluatorTests
{
    // Training: label 0 has 150 samples (many-shot), label 1 has 5 (few-shot), label 2 none (few-shot); no medium-shot bin.
    private static ShotSplit Split() =>
        new(LabelDistribution.FromValues([.. Enumerable.Repeat(0.0, 150), .. Enumerable.Repeat(1.0, 5), 2.0]));

    [Fact]
    public void ShotGroupsFollowTheThresholds()
    {
        var split = Split();
        split.BinGroups.Should().Equal(ShotGroup.Many, ShotGroup.Few, ShotGroup.Few);
        var custom = new ShotSplit(split.Training, manyThreshold: 4, fewThreshold: 2);
        custom.BinGroups.Should().Equal(ShotGroup.Many, ShotGroup.Many, ShotGroup.Few);
        new ShotSplit(split.Training, manyThreshold: 10, fewThreshold: 2).GroupOf(1.0).Should().Be(ShotGroup.Medium);
    }

    [Fact]
    public void ReportsHandComputedMetricsAndAnEmptyMediumGroup()
    {
        using var scope = NewDisposeScope();
        var evaluator = new DirEvaluator(Split());
        evaluator.Add(tensor(new[] { 0.5, -0.5 }).unsqueeze(1), tensor(new[] { 0L, 0L }).unsqueeze(1));
        evaluator.Add(tensor(new[] { 1.0f, 4.0f }), tensor(new[] { 1.0f, 2.0f }));
        var report = evaluator.Compute();

        // Errors: 0.5, -0.5 (many); 0 (exact hit), 2 (few).
        report.All.Count.Should().Be(4);
        report.All.Mae.Should().BeApproximately(0.75, 1e-12);
        report.All.Mse.Should().BeApproximately((0.25 + 0.25 + 0 + 4) / 4, 1e-12);
        report.All.Rmse.Should().BeApproximately(Math.Sqrt(4.5 / 4), 1e-12);
        report.Many.Mae.Should().BeApproximately(0.5, 1e-12);
        report.Few.Count.Should().Be(2);
        report.Few.Mae.Should().BeApproximately(1.0, 1e-12);

        // GM of the few group: sqrt((0 + eps) * (2 + eps)) -- small but not zero.
        report.Few.GeometricMean.Should().BeApproximately(Math.Sqrt(1e-8 * (2 + 1e-8)), 1e-15);
        report.Few.GeometricMean.Should().BeGreaterThan(0);

        // Balanced MAE over bins: bin 0 -> 0.5, bin 1 -> 0, bin 2 -> 2.
        report.All.BalancedMae.Should().BeApproximately((0.5 + 0 + 2) / 3, 1e-12);

        // Predictions (0.5, -0.5, 1, 4) against labels (0, 0, 1, 2): centered sums sxy = 5.25, sxx = 11.25, syy = 2.75.
        report.All.Pearson.Should().BeApproximately(5.25 / Math.Sqrt(11.25 * 2.75), 1e-12);

        // Average ranks (2, 1, 3, 4) and (1.5, 1.5, 3, 4): sxy = 4.5, sxx = 5, syy = 4.5.
        report.All.Spearman.Should().BeApproximately(4.5 / Math.Sqrt(5 * 4.5), 1e-12);

        report.Medium.Count.Should().Be(0);
        report.Medium.Mae.Should().Be(double.NaN);
        report.Medium.GeometricMean.Should().Be(double.NaN);
        report[ShotGroup.Medium].Should().Be(report.Medium);
    }

    [Fact]
    public void APerfectPredictionHasZeroErrorAndUnitCorrelation()
    {
        using var scope = NewDisposeScope();
        var evaluator = new DirEvaluator(Split());
        var labels = tensor(new[] { 0.0, 1.0, 2.0, 1.0 });
        evaluator.Add(labels, labels);
        var report = evaluator.Compute();
        report.All.Mae.Should().Be(0);
        report.All.Pearson.Should().BeApproximately(1, 1e-12);
        report.All.Spearman.Should().BeApproximately(1, 1e-12);
    }

    [Fact]
    public void TheTableHasOneRowPerGroup()
    {
        using var scope = NewDisposeScope();
        var evaluator = new DirEvaluator(Split());
        evaluator.Add(tensor(new[] { 0.5, 1.0 }), tensor(new[] { 0.0, 1.0 }));
        var lines = evaluator.Compute().ToTable().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(5);
        lines[0].Should().StartWith("Shot").And.Contain("MAE").And.Contain("GM");
        lines[1].Should().StartWith("All").And.Contain("0.250");
        lines[3].Should().StartWith("Medium").And.Contain("NaN");
    }

    [Fact]
    public void ResetForgetsAndAnEmptyEvaluatorReportsEmptyGroups()
    {
        using var scope = NewDisposeScope();
        var evaluator = new DirEvaluator(Split());
        evaluator.Add(tensor(new[] { 0.5 }), tensor(new[] { 0.0 }));
        evaluator.Reset();
        evaluator.Count.Should().Be(0);
        evaluator.Compute().All.Should().Be(RegressionMetrics.Empty);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        using var scope = NewDisposeScope();
        var evaluator = new DirEvaluator(Split());
        FluentActions.Invoking(() => evaluator.Add(ones(3), ones(2))).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => evaluator.Add(ones(3, 2), ones(6))).Should().Throw<ArgumentException>().WithParameterName("predictions");
        FluentActions.Invoking(() => evaluator.Add(tensor(new[] { double.NaN }), ones(1))).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => new DirEvaluator(Split(), 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new ShotSplit(Split().Training, manyThreshold: 10, fewThreshold: 50)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
