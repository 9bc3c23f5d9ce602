namespace RankSim.Tests.Dir.Evaluation;

public class FeatureDiagnosticsTests
{
    [Fact]
    public void FeaturesOnAnArcOrderedByLabelAreOneDimensionalAndPerfectlyRankConsistent()
    {
        // f_i = (cos t_i, sin t_i) with t_i growing with the label: cos(t_i - t_j) falls as |y_i - y_j| grows.
        using var scope = NewDisposeScope();
        var y = arange(40, dtype: ScalarType.Float64);
        var angle = y / 39 * (Math.PI / 2);
        var features = stack([angle.cos(), angle.sin()], 1);
        var d = FeatureDiagnostics.Compute(features, y, predictions: y * 0.5);
        d.Count.Should().Be(40);
        d.SimilarityLabelSpearman.Should().BeApproximately(1, 1e-12);
        d.EffectiveRank.Should().BeInRange(1, 2);
        d.MeanCosine.Should().BeGreaterThan(0.6);
        d.PredictionSpread.Should().BeApproximately(0.5, 1e-12);
    }

    [Fact]
    public void IsotropicFeaturesUseEveryDirectionAndCenteredCosinesAverageNearZero()
    {
        using var scope = NewDisposeScope();
        var features = randn(400, 8, dtype: ScalarType.Float64, generator: new Generator(1)) + 5;
        var labels = randint(0, 10, [400], generator: new Generator(2));
        var d = FeatureDiagnostics.Compute(features, labels);
        d.MeanCosine.Should().BeGreaterThan(0.8, "a shared offset makes raw cosines high");
        d.CenteredMeanCosine.Should().BeInRange(-0.01, 0.01, "centering removes the shared direction");
        d.EffectiveRank.Should().BeGreaterThan(7.5);
        Math.Abs(d.SimilarityLabelSpearman).Should().BeLessThan(0.05, "random features do not follow the labels");
        double.IsNaN(d.PredictionSpread).Should().BeTrue("no predictions were given");
    }

    [Fact]
    public void CollapsedFeaturesAndConstantPredictionsShowAsSuch()
    {
        using var scope = NewDisposeScope();
        var features = ones(50, 16, dtype: ScalarType.Float32) * 3;
        var labels = arange(50, dtype: ScalarType.Float32);
        var d = FeatureDiagnostics.Compute(features, labels, predictions: full(50, 2.5f));
        d.MeanCosine.Should().BeApproximately(1, 1e-12);
        d.EffectiveRank.Should().Be(0, "the batch does not vary at all");
        double.IsNaN(d.CenteredMeanCosine).Should().BeTrue("every centered row is zero");
        double.IsNaN(d.SimilarityLabelSpearman).Should().BeTrue("every similarity is equal");
        d.PredictionSpread.Should().Be(0);
    }

    [Fact]
    public void HugeAndTinyFeaturesGiveTheSameDiagnosticsAsModerateOnes()
    {
        using var scope = NewDisposeScope();
        var features = randn(60, 6, dtype: ScalarType.Float64, generator: new Generator(3));
        var labels = randint(0, 20, [60], generator: new Generator(4)).to(ScalarType.Float64);
        var moderate = FeatureDiagnostics.Compute(features, labels);
        // Powers of two scale exactly, so the diagnostics must agree; at 2^990 squared norms overflow unless scaled first.
        foreach (double scale in new[] { Math.ScaleB(1, 990), Math.ScaleB(1, -990) })
        {
            var scaled = FeatureDiagnostics.Compute(features * scale, labels * scale);
            scaled.MeanCosine.Should().BeApproximately(moderate.MeanCosine, 1e-9);
            scaled.SimilarityLabelSpearman.Should().BeApproximately(moderate.SimilarityLabelSpearman, 1e-9);
            scaled.EffectiveRank.Should().BeApproximately(moderate.EffectiveRank, 1e-6);
        }
    }

    [Fact]
    public void BadInputIsRefusedWithTheArgumentNamed()
    {
        using var scope = NewDisposeScope();
        var features = randn(10, 4);
        var labels = arange(10);
        FluentActions.Invoking(() => FeatureDiagnostics.Compute(randn(1, 4), arange(1))).Should().Throw<ArgumentException>().WithParameterName("features");
        FluentActions.Invoking(() => FeatureDiagnostics.Compute(features, arange(9))).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => FeatureDiagnostics.Compute(features, labels, randn(9))).Should().Throw<ArgumentException>().WithParameterName("predictions");
        var withNaN = features.clone();
        withNaN[3, 1] = double.NaN;
        FluentActions.Invoking(() => FeatureDiagnostics.Compute(withNaN, labels)).Should().Throw<ArgumentException>().WithParameterName("features");
        FluentActions.Invoking(() => FeatureDiagnostics.Compute(randint(0, 3, [10, 4]), labels)).Should().Throw<ArgumentException>().WithParameterName("features");
    }
}
