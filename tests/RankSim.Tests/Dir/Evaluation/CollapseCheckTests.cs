namespace RankSim.Tests.Dir.Evaluation;

public class CollapseCheckTests
{
    /// <summary>Features [B, 16] that vary along one direction, ordered by the label, plus a little noise.</summary>
    private static (Tensor Features, Tensor Labels) OneDirection(int seed)
    {
        var generator = new Generator((ulong)seed);
        var labels = rand(256, generator: generator) * 50;
        var direction = randn(1, 16, generator: generator);
        var features = labels.unsqueeze(1) * direction + 0.01 * randn(256, 16, generator: generator);
        return (features, labels);
    }

    [Fact]
    public void LowRankFeaturesOrderedByTheLabelWithGoodPredictionsAreNotCollapsed()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = OneDirection(1);
        var predictions = labels + randn(256, generator: new Generator(2));
        var diagnostics = FeatureDiagnostics.Compute(features, labels, predictions);
        diagnostics.EffectiveRank.Should().BeLessThan(2, "the features use about one direction");
        var projection = features.mm(features[..1].t()).squeeze(1);
        var ordered = stack([projection, labels]).corrcoef()[0, 1].abs().item<float>();
        ordered.Should().BeGreaterThan(0.99f, "the features are ordered by the label along that direction");

        var verdict = CollapseCheck.Judge(diagnostics, validationError: 0.8, baselineValidationError: 1.0);
        verdict.Collapsed.Should().BeFalse();
        verdict.Reason.Should().Contain("the regression works").And.Contain("effective rank");
    }

    [Fact]
    public void NearConstantPredictionsAreCollapsed()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = OneDirection(3);
        var predictions = full(256, 25f) + 0.01f * randn(256, generator: new Generator(4));
        var verdict = CollapseCheck.Judge(FeatureDiagnostics.Compute(features, labels, predictions), validationError: 12.5);
        verdict.Collapsed.Should().BeTrue();
        verdict.Reason.Should().Contain("predictions hardly vary");
    }

    [Fact]
    public void AValidationErrorFarWorseThanWithoutTheRegularizerIsCollapsed()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = OneDirection(5);
        var diagnostics = FeatureDiagnostics.Compute(features, labels, labels * 0.5 + 10);
        CollapseCheck.Judge(diagnostics, validationError: 3.1, baselineValidationError: 2.0).Collapsed.Should().BeTrue();
        CollapseCheck.Judge(diagnostics, validationError: 2.9, baselineValidationError: 2.0).Collapsed.Should().BeFalse();
        CollapseCheck.Judge(diagnostics, validationError: 2.9, baselineValidationError: 2.0, maxErrorRatio: 1.2).Collapsed.Should().BeTrue();
    }

    [Fact]
    public void BadArgumentsAreRefusedByName()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = OneDirection(6);
        var diagnostics = FeatureDiagnostics.Compute(features, labels, labels);
        FluentActions.Invoking(() => CollapseCheck.Judge(null!, 1)).Should().Throw<ArgumentNullException>().WithParameterName("diagnostics");
        FluentActions.Invoking(() => CollapseCheck.Judge(diagnostics, double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("validationError");
        FluentActions.Invoking(() => CollapseCheck.Judge(diagnostics, 1, -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("baselineValidationError");
        FluentActions.Invoking(() => CollapseCheck.Judge(diagnostics, 1, minPredictionSpread: 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("minPredictionSpread");
        FluentActions.Invoking(() => CollapseCheck.Judge(diagnostics, 1, maxErrorRatio: 0.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxErrorRatio");
        FluentActions.Invoking(() => CollapseCheck.Judge(FeatureDiagnostics.Compute(features, labels), 1)).Should().Throw<ArgumentException>().WithParameterName("diagnostics");
    }
}
