namespace RankSim.Tests.Dir.Evaluation;

public class PairedComparisonTests
{
    [Fact]
    public void MeanStandardErrorAndSeedCountsMatchAHandComputedCase()
    {
        // Differences -0.1, -0.3, 0.1, -0.2, 0: mean -0.1, sd sqrt(0.1 / 4) = 0.158114, se 0.0707107.
        var comparison = PairedComparison.Of([4.9, 4.7, 5.1, 4.8, 5.0], [5.0, 5.0, 5.0, 5.0, 5.0]);
        comparison.Count.Should().Be(5);
        comparison.MeanDifference.Should().BeApproximately(-0.1, 1e-12);
        comparison.StandardDeviation.Should().BeApproximately(Math.Sqrt(0.1 / 4), 1e-12);
        comparison.StandardError.Should().BeApproximately(Math.Sqrt(0.1 / 4) / Math.Sqrt(5), 1e-12);
        comparison.StandardErrors.Should().BeApproximately(-0.1 / (Math.Sqrt(0.1 / 4) / Math.Sqrt(5)), 1e-9);
        (comparison.Lower, comparison.Higher, comparison.Equal).Should().Be((3, 1, 1));
    }

    [Fact]
    public void OneSeedHasNoSpreadAndIdenticalRecipesNoDifference()
    {
        var one = PairedComparison.Of([1.0], [2.0]);
        one.MeanDifference.Should().Be(-1);
        double.IsNaN(one.StandardError).Should().BeTrue();

        var same = PairedComparison.Of([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]);
        same.MeanDifference.Should().Be(0);
        same.StandardDeviation.Should().Be(0);
        same.Equal.Should().Be(3);
    }

    [Fact]
    public void ValuesNearTheDoubleLimitDoNotOverflow()
    {
        // The first difference, 1.25 max, overflows when taken directly; the mean and spread are representable.
        double max = double.MaxValue;
        var comparison = PairedComparison.Of([max, max], [-max / 4, 0]);
        comparison.MeanDifference.Should().BeApproximately(1.125 * max, 1e-12 * max);
        comparison.StandardDeviation.Should().BeApproximately(0.25 * max / Math.Sqrt(2), 1e-12 * max);
        (comparison.Lower, comparison.Higher).Should().Be((0, 2));
    }

    [Fact]
    public void BadInputIsRefusedWithTheArgumentNamed()
    {
        FluentActions.Invoking(() => PairedComparison.Of([], [])).Should().Throw<ArgumentException>().WithParameterName("baseline");
        FluentActions.Invoking(() => PairedComparison.Of([1.0, 2.0], [1.0])).Should().Throw<ArgumentException>().WithMessage("*2 and 1*");
        FluentActions.Invoking(() => PairedComparison.Of([double.NaN], [1.0])).Should().Throw<ArgumentException>().WithParameterName("treatment");
        FluentActions.Invoking(() => PairedComparison.Of([1.0], [double.PositiveInfinity])).Should().Throw<ArgumentException>().WithParameterName("baseline");
    }

    [Fact]
    public void ReportsAreComparedPerShotGroupOverTheSeedsWhereTheGroupHasSamples()
    {
        var distribution = LabelDistribution.FromValues([.. Enumerable.Repeat(0.0, 150), .. Enumerable.Repeat(1.0, 50), 2.0]);
        var split = new ShotSplit(distribution);
        DirReport Report(double error, bool withFew)
        {
            using var scope = NewDisposeScope();
            var evaluator = new DirEvaluator(split);
            double[] labels = withFew ? [0.0, 1.0, 2.0] : [0.0, 1.0];
            evaluator.Add(tensor(labels.Select(l => l + error).ToArray()), tensor(labels));
            return evaluator.Compute();
        }

        var treatment = new[] { Report(0.1, true), Report(0.2, false), Report(0.3, true) };
        var baseline = new[] { Report(0.2, true), Report(0.2, true), Report(0.5, true) };
        var comparison = PairedComparison.OfReports(treatment, baseline);
        comparison["All"]!.Count.Should().Be(3);
        comparison["All"]!.MeanDifference.Should().BeApproximately((-0.1 + 0 - 0.2) / 3, 1e-12);
        comparison["Few"]!.Count.Should().Be(2, "seed 1's treatment has no few-shot sample");
        comparison["Few"]!.MeanDifference.Should().BeApproximately(-0.15, 1e-12);
        comparison["Few"]!.Lower.Should().Be(2);
    }
}
