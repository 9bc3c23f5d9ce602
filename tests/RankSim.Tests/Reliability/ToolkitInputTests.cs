namespace RankSim.Tests.Reliability;

/// <summary>
/// The DIR toolkit's contract on extreme and invalid input: a finite, correct result, or an ArgumentException naming the
/// argument; nothing silently wrong.
/// </summary>
public class ToolkitInputTests
{
    [Theory]
    [InlineData(0.5, FocalRBase.L1)]
    [InlineData(0.2, FocalRBase.MSE)]
    [InlineData(0.0, FocalRBase.L1)]
    public void FocalRHasAFiniteZeroGradientAtAnExactPredictionForAnyGamma(double gamma, FocalRBase baseLoss)
    {
        using var scope = NewDisposeScope();
        var prediction = tensor(new[] { 1.0f, 2.0f, 3.5f }).requires_grad_();
        var target = tensor(new[] { 1.0f, 2.5f, 3.0f });
        var loss = new FocalRLoss(baseLoss, gamma: gamma).call(prediction, target, null);
        loss.backward();
        var gradient = prediction.grad!.Floats();
        gradient.Should().OnlyContain(g => float.IsFinite(g));
        gradient[0].Should().Be(0, "the exact prediction's loss is flat there");
        gradient[1].Should().BeNegative();
        gradient[2].Should().BePositive();
    }

    [Theory]
    [InlineData(1e-40, ScalarType.Float32)]
    [InlineData(1e-10, ScalarType.Float16)]
    [InlineData(1e-300, ScalarType.Float64)]
    public void HuberWithABetaTheDtypeCannotInvertIsFiniteAtAnExactPrediction(double beta, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var prediction = tensor(new[] { 1.0, 2.0, 4.0 }).to(dtype).requires_grad_();
        var target = tensor(new[] { 1.0, 2.5, 3.0 }).to(dtype);
        var loss = new WeightedHuberLoss(beta).call(prediction, target, null);
        loss.backward();
        double.IsFinite(loss.to(ScalarType.Float64).item<double>()).Should().BeTrue();
        prediction.grad!.Doubles().Should().OnlyContain(g => double.IsFinite(g));
        loss.to(ScalarType.Float64).item<double>().Should().BeApproximately((0.5 + 1.0) / 3, 1e-2, "essentially L1 for so small a beta");
    }

    [Fact]
    public void HuberGradientIsFiniteForErrorsNearTheFloat32Limit()
    {
        // Errors near 3e38 are beyond beta, so the linear part is selected; the unselected quadratic part must not make
        // the gradient NaN (its square's backward, 2 e, overflows float32 there).
        using var scope = NewDisposeScope();
        var prediction = tensor(new[] { -1.9e-42f, 2.6e-41f }).requires_grad_();
        var target = tensor(new[] { 2.69e38f, -2.97e38f });
        var weights = tensor(new[] { -0.0616f, 0.787f });
        var loss = new WeightedHuberLoss(beta: 3).call(prediction, target, weights);
        loss.backward();
        float.IsFinite(loss.item<float>()).Should().BeTrue();
        prediction.grad!.Floats().Should().Equal([0.0616f / 2, 0.787f / 2], (a, e) => Math.Abs(a - e) <= 1e-6f);
    }

    [Theory]
    [InlineData(1e-45)]
    [InlineData(1e45)]
    [InlineData(1e-16)]
    public void NoiseSigmasWhoseSquareFloat32CannotHoldAreRejected(double sigma)
    {
        FluentActions.Invoking(() => new BMCLoss(sigma)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("initialNoiseSigma");
        var prior = new GaussianMixture([0.0], [1.0], [1.0]);
        FluentActions.Invoking(() => new GAILoss(prior, sigma)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("initialNoiseSigma");
    }

    [Theory]
    [InlineData(1e-15)]
    [InlineData(1e15)]
    public void NoiseSigmasAtTheBoundsGiveFiniteLosses(double sigma)
    {
        using var scope = NewDisposeScope();
        var prediction = tensor(new[] { 1.0f, 2.0f, 3.0f }).requires_grad_();
        var target = tensor(new[] { 1.0f, 2.0f, 3.5f });
        var loss = new BMCLoss(sigma).call(prediction, target);
        loss.backward();
        float.IsFinite(loss.item<float>()).Should().BeTrue();
        prediction.grad!.Floats().Should().OnlyContain(g => float.IsFinite(g));
    }

    [Theory]
    [InlineData(1e200)]
    [InlineData(1e-200)]
    [InlineData(1.0)]
    public void CorrelationsOfPerfectlyCorrelatedDataAreOneAtAnyScale(double scale)
    {
        using var scope = NewDisposeScope();
        var labels = arange(50, dtype: ScalarType.Float64) * scale;
        var split = new ShotSplit(LabelDistribution.FromLabels(arange(50)));
        var evaluator = new DirEvaluator(split);
        evaluator.Add(labels * 2, labels);
        var all = evaluator.Compute().All;
        all.Pearson.Should().BeApproximately(1.0, 1e-12);
        all.Spearman.Should().BeApproximately(1.0, 1e-12);
    }

    [Fact]
    public void NaNPredictionsOrLabelsAreRejectedByTheEvaluator()
    {
        using var scope = NewDisposeScope();
        var evaluator = new DirEvaluator(new ShotSplit(LabelDistribution.FromLabels(arange(10))));
        FluentActions.Invoking(() => evaluator.Add(tensor(new[] { 1.0, double.NaN }), tensor(new[] { 1.0, 2.0 }))).Should()
            .Throw<ArgumentException>().WithParameterName("predictions");
        FluentActions.Invoking(() => evaluator.Add(tensor(new[] { 1.0, 2.0 }), tensor(new[] { 1.0, double.PositiveInfinity }))).Should()
            .Throw<ArgumentException>().WithParameterName("labels");
    }

    [Fact]
    public void LookupRejectsNonFiniteOrSparseLabels()
    {
        using var scope = NewDisposeScope();
        var weights = LabelDistribution.FromLabels(arange(10)).Reweight(Reweighting.SqrtInverse);
        FluentActions.Invoking(() => weights.Lookup(tensor(new[] { 1.0, double.NaN }))).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => weights.Lookup(tensor(new[] { 1.0, 2.0 }).to_sparse())).Should().Throw<ArgumentException>().WithParameterName("labels");
    }

    [Fact]
    public void FdsRejectsNaNFeaturesAndLabelsAndKeepsItsStatisticsClean()
    {
        using var scope = NewDisposeScope();
        var fds = new FeatureDistributionSmoothing(3, LabelBinning.Integers(0, 9));
        var features = randn(10, 3, generator: new Generator(1));
        var labels = arange(10, dtype: ScalarType.Float32);
        var poisoned = features.clone();
        poisoned[4, 1] = float.NaN;
        FluentActions.Invoking(() => fds.UpdateStatistics(poisoned, labels)).Should().Throw<ArgumentException>().WithParameterName("features");
        var badLabels = labels.clone();
        badLabels[2] = float.PositiveInfinity;
        FluentActions.Invoking(() => fds.call(features, badLabels)).Should().Throw<ArgumentException>().WithParameterName("labels");
        fds.UpdateStatistics(features, labels);
        fds.RunningMean.Floats().Should().OnlyContain(v => float.IsFinite(v));

        // Labels take the shapes RankSimLoss takes for scalar labels: [B] or [B, 1], not [1, B].
        FluentActions.Invoking(() => fds.call(features, labels.unsqueeze(0))).Should().Throw<ArgumentException>().WithParameterName("labels");
    }

    [Fact]
    public void FdsEndEpochRejectsNullOrMismatchedBatches()
    {
        using var scope = NewDisposeScope();
        var fds = new FeatureDistributionSmoothing(3, LabelBinning.Integers(0, 9));
        var good = (randn(4, 3), arange(4, dtype: ScalarType.Float32));
        FluentActions.Invoking(() => fds.EndEpoch([good, (randn(4, 5), arange(4, dtype: ScalarType.Float32))])).Should()
            .Throw<ArgumentException>().WithParameterName("featureBatches").WithMessage("Batch 1*");
        FluentActions.Invoking(() => fds.EndEpoch([good, (null!, arange(4, dtype: ScalarType.Float32))])).Should()
            .Throw<ArgumentException>().WithParameterName("featureBatches").WithMessage("*null*");
    }

    [Fact]
    public void FdsStateSavedWithOtherBinEdgesIsRefused()
    {
        using var scope = NewDisposeScope();
        var path = Path.GetTempFileName();
        try
        {
            var source = new FeatureDistributionSmoothing(2, LabelBinning.FixedWidth(0, 10, 10));
            source.save(path);

            // Same number of bins (so every buffer has the same shape), other edges.
            var other = new FeatureDistributionSmoothing(2, LabelBinning.FixedWidth(0, 20, 10));
            other.load(path);
            FluentActions.Invoking(() => other.UpdateStatistics(randn(3, 2), tensor(new[] { 1f, 5f, 9f }))).Should()
                .Throw<InvalidOperationException>().WithMessage("*other label bins*");

            var same = new FeatureDistributionSmoothing(2, LabelBinning.FixedWidth(0, 10, 10));
            same.load(path);
            same.UpdateStatistics(randn(3, 2), tensor(new[] { 1f, 5f, 9f }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TheNoiseVarianceTrainsInItsOwnParameterGroupAsInThePaper()
    {
        using var scope = NewDisposeScope();
        var model = nn.Linear(2, 1);
        var bmc = new BMCLoss(initialNoiseSigma: 1.0);
        var optimizer = optim.Adam(new List<TorchSharp.Modules.Adam.ParamGroup>
        {
            new(model.parameters(), lr: 1e-3),
            new(bmc.parameters(), lr: 1e-2),
        });
        double before = bmc.NoiseVariance.item<float>();
        var x = randn(16, 2, generator: new Generator(1));
        var y = x.sum(1, keepdim: true) * 3;
        optimizer.zero_grad();
        bmc.call(model.call(x), y).backward();
        optimizer.step();
        optimizer.ParamGroups.Select(g => g.LearningRate).Should().Equal(1e-3, 1e-2);
        bmc.NoiseVariance.item<float>().Should().NotBe((float)before, "the noise variance is a trained parameter");
    }

    [Fact]
    public void MixtureFitsBoundTheComponentsByTheDistinctLabelsAndFitAnyScale()
    {
        FluentActions.Invoking(() => GaussianMixture.FitValues([1.0, 1.0, 2.0, 2.0], components: 3)).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("components").WithMessage("*2 distinct*");

        // Labels near 1e100 fit as the same labels near 1 do, scaled; near 1e200 the variances (1e400) cannot be held.
        var values = Enumerable.Range(0, 200).Select(i => (i % 2 == 0 ? 1.0 : 5.0) + (0.01 * (i % 7))).ToArray();
        var unit = GaussianMixture.FitValues(values, components: 2);
        var huge = GaussianMixture.FitValues(values.Select(v => v * 1e100).ToArray(), components: 2);
        huge.Means.Zip(unit.Means, (h, u) => h / 1e100 / u).Should().OnlyContain(r => Math.Abs(r - 1) < 1e-6);
        huge.Weights.Should().Equal(unit.Weights, (h, u) => Math.Abs(h - u) < 1e-6);
        FluentActions.Invoking(() => GaussianMixture.FitValues(values.Select(v => v * 1e200).ToArray(), components: 2)).Should()
            .Throw<ArgumentException>().WithParameterName("labels").WithMessage("*rescale*");

        // One component per label, n = K = 3000: valid and finite.
        var many = GaussianMixture.FitValues(Enumerable.Range(0, 3000).Select(i => (double)i).ToArray(), components: 3000, maxIterations: 20);
        many.Count.Should().Be(3000);
        many.Variances.Should().OnlyContain(v => double.IsFinite(v) && v > 0);
    }

    // The cases below were found by the fuzz test (BadInputFuzzTests) and failed before their fixes.

    [Fact]
    public void DisposedTensorsGetAnArgumentExceptionNamingThem()
    {
        var disposed = randn(4);
        disposed.Dispose();
        FluentActions.Invoking(() => new WeightedL1Loss().call(randn(4), disposed, null)).Should().Throw<ArgumentException>().WithParameterName("target");
        FluentActions.Invoking(() => BlackboxRank.Apply(disposed, 2)).Should().Throw<ArgumentException>().WithParameterName("scores");
        FluentActions.Invoking(() => LabelBinning.Integers(0, 3).BinIndex(disposed)).Should().Throw<ArgumentException>().WithParameterName("labels");
    }

    [Fact]
    public void LossesRefuseNonFiniteInputsAndResultsTheirDtypeCannotHold()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => new WeightedMSELoss().call(tensor(new[] { 1f, float.NaN }), tensor(new[] { 1f, 2f }), null)).Should()
            .Throw<ArgumentException>().WithParameterName("input");

        // Float32 squared errors of 3e20 overflow: refused with advice instead of returning infinity.
        FluentActions.Invoking(() => new WeightedMSELoss().call(tensor(new[] { 3e20f, 0f }), tensor(new[] { 0f, 0f }), null)).Should()
            .Throw<ArgumentException>().WithMessage("*overflows Float32*");
        // BMC of predictions far from 0 without the cancellation of two squares: about 2 * 3e20 (each sample's cross-entropy
        // is softplus(3e20) against the other target); a result beyond float32 is refused.
        var bmc = new BMCLoss();
        bmc.call(tensor(new[] { 3e20f, -3e20f }), tensor(new[] { 0f, 1f })).item<float>().Should().BeApproximately(6e20f, 1e14f);
        FluentActions.Invoking(() => bmc.call(tensor(new[] { 1e38f, -1e38f }), tensor(new[] { 0f, 10f }))).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void BinningRefusesNaNLabelsAndRangesFloat64CannotSplit()
    {
        var binning = LabelBinning.FixedWidth(0, 5, 50);
        FluentActions.Invoking(() => binning.BinIndex(double.NaN)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => binning.BinIndex(tensor(new[] { 1.0, double.NaN }))).Should().Throw<ArgumentException>().WithParameterName("labels");

        var widest = LabelBinning.FixedWidth(-double.MaxValue, double.MaxValue, 4);
        widest.Edges.Should().OnlyContain(e => double.IsFinite(e)).And.BeInAscendingOrder();
        FluentActions.Invoking(() => LabelBinning.Integers(1L << 60, (1L << 60) + 3)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("min");
    }

    [Fact]
    public void ExtremeOptionsOfTheToolkitGiveFiniteResultsOrAreRefused()
    {
        // Mixture density far from every component: -infinity (density 0), not NaN.
        new GaussianMixture([0.0, 1.0], [1.0, 1.0], [0.5, 0.5]).LogDensity(1e300).Should().Be(double.NegativeInfinity);

        // Inverse weights with clip bounds at the float64 limit: finite, averaging 1.
        var distribution = LabelDistribution.FromValues([0.0, 1, 1, 2]);
        var weights = distribution.Reweight(Reweighting.Inverse, clipMin: double.MaxValue, clipMax: double.MaxValue).Lookup(tensor(new[] { 0.0, 1, 1, 2 })).Doubles();
        weights.Should().OnlyContain(w => double.IsFinite(w) && w > 0);
        weights.Average().Should().BeApproximately(1, 1e-12);

        FluentActions.Invoking(() => new FocalRLoss(gamma: 1e300)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("gamma");
        FluentActions.Invoking(() => new FocalRLoss(beta: 1e39)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("beta");

        // Errors of 1e308-sized predictions: MAE and RMSE finite; MSE (about 1e616) is +infinity, documented.
        var evaluator = new DirEvaluator(new ShotSplit(distribution));
        evaluator.Add(tensor(new[] { 1.5e308, -1.5e308 }), tensor(new[] { 0.0, 1.0 }));
        var all = evaluator.Compute().All;
        all.Mae.Should().BeApproximately(1.5e308, 1e294);
        all.Rmse.Should().BeApproximately(1.5e308, 1e294);
        all.Mse.Should().Be(double.PositiveInfinity);
        double.IsFinite(all.GeometricMean).Should().BeTrue();
    }
}
