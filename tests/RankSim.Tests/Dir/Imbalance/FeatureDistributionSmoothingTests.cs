namespace RankSim.Tests.Dir.Imbalance;

public class FeatureDistributionSmoothingTests
{
    // Six bins (labels 0..5), two feature dimensions, a triangular kernel of size 3: sum-normalized window [1/4, 1/2, 1/4].
    private static FeatureDistributionSmoothing Create(int startSmooth = 1) =>
        new(2, LabelBinning.Integers(0, 5), new KernelWindow(KernelShape.Triangular, 3), startSmooth: startSmooth, dtype: ScalarType.Float64);

    private static (Tensor Features, Tensor Labels) EpochData(double shift) =>
        (tensor(new[] { 1.0, 2.0, 3.0, 6.0, 5.0, 5.0, 10.0, 0.0, 12.0, 0.0, 14.0, 0.0 }).reshape(6, 2) + shift,
         tensor(new[] { 0L, 0L, 2L, 4L, 4L, 4L }));

    [Fact]
    public void FirstUpdateOverwritesWithPerBinMeansAndUnbiasedVariances()
    {
        using var scope = NewDisposeScope();
        var fds = Create();
        var (features, labels) = EpochData(0);
        fds.UpdateStatistics(features, labels);

        var mean = fds.RunningMean.Doubles();
        var variance = fds.RunningVariance.Doubles();

        // Bin 0: rows (1, 2), (3, 6): mean (2, 4), unbiased variance (2, 8).
        mean[..2].Should().Equal(2.0, 4.0);
        variance[..2].Should().Equal(2.0, 8.0);

        // Bin 2: one row (5, 5): mean (5, 5), biased variance (0, 0).
        mean[4..6].Should().Equal(5.0, 5.0);
        variance[4..6].Should().Equal(0.0, 0.0);

        // Bin 4: rows (10, 0), (12, 0), (14, 0): mean (12, 0), variance (4, 0).
        mean[8..10].Should().Equal(12.0, 0.0);
        variance[8..10].Should().Equal(4.0, 0.0);

        // Bins never seen keep their initial statistics (mean 0, variance 1).
        mean[2..4].Should().Equal(0.0, 0.0);
        variance[2..4].Should().Equal(1.0, 1.0);
    }

    [Fact]
    public void LaterUpdatesBlendWithMomentum()
    {
        using var scope = NewDisposeScope();
        var fds = Create();
        var (features, labels) = EpochData(0);
        fds.UpdateStatistics(features, labels);
        fds.EndEpoch();
        fds.UpdateStatistics(features + 10, labels);

        // new = 0.1 * current + 0.9 * old: bin 0 mean (2, 4) -> (2.1 * ... ) = 0.1 * (12, 14) + 0.9 * (2, 4) = (3, 5).
        fds.RunningMean.Doubles()[..2].Should().Equal(new[] { 3.0, 5.0 }, (a, e) => Math.Abs(a - e) < 1e-12);
        fds.RunningVariance.Doubles()[..2].Should().Equal(new[] { 2.0, 8.0 }, (a, e) => Math.Abs(a - e) < 1e-12);
    }

    [Fact]
    public void EpochEndSmoothsAcrossBinsWithReflectPadding()
    {
        using var scope = NewDisposeScope();
        var fds = Create();
        var (features, labels) = EpochData(0);
        fds.UpdateStatistics(features, labels);
        fds.EndEpoch();

        fds.CurrentEpoch.Should().Be(1);
        fds.LastEpochMean.Doubles().Should().Equal(fds.RunningMean.Doubles());

        // First feature's per-bin means: [2, 0, 5, 0, 12, 0]; reflect padding gives [0 | 2, 0, 5, 0, 12, 0 | 12].
        var expected = new[] { 0.25 * 0 + 0.5 * 2 + 0.25 * 0, 0.25 * 2 + 0 + 0.25 * 5, 0 + 2.5 + 0, 0.25 * 5 + 0 + 0.25 * 12, 6.0, 0.25 * 12 + 0 + 0.25 * 12 };
        var smoothed = fds.SmoothedMean.Doubles().Where((_, i) => i % 2 == 0).ToArray();
        smoothed.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-12);
    }

    [Fact]
    public void CalibrationStartsAtTheStartEpochInTrainingModeOnly()
    {
        using var scope = NewDisposeScope();
        var fds = Create(startSmooth: 1);
        var (features, labels) = EpochData(0);
        var batch = tensor(new[] { 4.0, 4.0, 13.0, 1.0 }).reshape(2, 2);
        var batchLabels = tensor(new[] { 0L, 4L });

        fds.train();
        fds.call(batch, batchLabels).Doubles().Should().Equal(batch.Doubles(), "epoch 0 is before the start epoch");

        fds.UpdateStatistics(features, labels);
        fds.EndEpoch();
        var calibrated = fds.call(batch, batchLabels);

        // z' = (z - mu) * sqrt(clamp(var~ / var, 0.1, 10)) + mu~, per element; a zero variance leaves the element alone.
        var mu = fds.LastEpochMean;
        var variance = fds.LastEpochVariance;
        var smoothedMean = fds.SmoothedMean;
        var smoothedVariance = fds.SmoothedVariance;
        var expected = new double[4];
        int[] bins = [0, 4];
        for (int row = 0; row < 2; row++)
        {
            for (int d = 0; d < 2; d++)
            {
                int b = bins[row];
                double z = batch[row, d].item<double>();
                double v = variance[b, d].item<double>();
                double ratio = Math.Clamp(smoothedVariance[b, d].item<double>() / v, 0.1, 10);
                expected[row * 2 + d] = v == 0 ? z : (z - mu[b, d].item<double>()) * Math.Sqrt(ratio) + smoothedMean[b, d].item<double>();
            }
        }

        calibrated.Doubles().Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-12);
        calibrated.Doubles()[3].Should().Be(1.0, "bin 4's second feature has zero variance");
        calibrated.Doubles()[0].Should().NotBe(4.0);

        fds.eval();
        fds.call(batch, batchLabels).Doubles().Should().Equal(batch.Doubles(), "eval mode is the identity");
    }

    [Fact]
    public void CalibrationIsOutOfPlaceAndDifferentiable()
    {
        using var scope = NewDisposeScope();
        var fds = Create();
        var (features, labels) = EpochData(0);
        fds.UpdateStatistics(features, labels);
        fds.EndEpoch();
        var input = tensor(new[] { 4.0, 4.0, 13.0, 1.0 }).reshape(2, 2).requires_grad_();
        var before = input.detach().clone();
        fds.call(input, tensor(new[] { 0L, 4L })).sum().backward();

        input.detach().Doubles().Should().Equal(before.Doubles());
        input.grad.Should().NotBeNull();
        input.grad!.Doubles()[3].Should().Be(1.0);
    }

    [Fact]
    public void EndEpochFromBatchesEqualsOneUpdateOnTheWholeSet()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = EpochData(0);
        var whole = Create();
        whole.UpdateStatistics(features, labels);
        whole.EndEpoch();
        var batched = Create();
        batched.EndEpoch([(features[..3], labels[..3]), (features[3..], labels[3..])]);

        batched.RunningMean.Doubles().Should().Equal(whole.RunningMean.Doubles());
        batched.RunningVariance.Doubles().Should().Equal(whole.RunningVariance.Doubles());
        batched.SmoothedVariance.Doubles().Should().Equal(whole.SmoothedVariance.Doubles());
    }

    [Fact]
    public void CheckpointRoundTripRestoresEveryStatistic()
    {
        using var scope = NewDisposeScope();
        var fds = Create();
        var (features, labels) = EpochData(0);
        fds.UpdateStatistics(features, labels);
        fds.EndEpoch();
        fds.UpdateStatistics(features * 2, labels);

        string path = Path.Combine(Path.GetTempPath(), $"fds-{Guid.NewGuid():N}.bin");
        try
        {
            fds.save(path);
            var restored = Create();
            restored.load(path);
            restored.state_dict().Keys.Should().BeEquivalentTo(fds.state_dict().Keys);
            foreach (var (name, value) in fds.state_dict())
            {
                restored.state_dict()[name].Doubles().Should().Equal(value.Doubles(), name);
            }

            restored.CurrentEpoch.Should().Be(1);
            var batch = tensor(new[] { 4.0, 4.0, 13.0, 1.0 }).reshape(2, 2);
            restored.call(batch, tensor(new[] { 0L, 4L })).Doubles().Should().Equal(fds.call(batch, tensor(new[] { 0L, 4L })).Doubles());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BadInputIsRejected()
    {
        using var scope = NewDisposeScope();
        var binning = LabelBinning.Integers(0, 5);
        FluentActions.Invoking(() => new FeatureDistributionSmoothing(0, binning)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("featureDim");
        FluentActions.Invoking(() => new FeatureDistributionSmoothing(2, LabelBinning.Integers(0, 1), new KernelWindow(size: 5))).Should()
            .Throw<ArgumentException>().WithParameterName("binning");
        FluentActions.Invoking(() => new FeatureDistributionSmoothing(2, binning, momentum: 1.0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("momentum");
        FluentActions.Invoking(() => new FeatureDistributionSmoothing(2, binning, clampMin: 2, clampMax: 1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new FeatureDistributionSmoothing(2, binning, startUpdate: 3, startSmooth: 1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new FeatureDistributionSmoothing(2, binning, dtype: ScalarType.Int32)).Should().Throw<ArgumentException>().WithParameterName("dtype");
        var fds = new FeatureDistributionSmoothing(2, binning);
        FluentActions.Invoking(() => fds.call(ones(3, 4), ones(3))).Should().Throw<ArgumentException>().WithParameterName("features");
        FluentActions.Invoking(() => fds.call(ones(3, 2), ones(4))).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => fds.UpdateStatistics(ones(3, 2, dtype: ScalarType.Int64), ones(3))).Should().Throw<ArgumentException>().WithParameterName("features");
        FluentActions.Invoking(() => fds.EndEpoch(Array.Empty<(Tensor, Tensor)>())).Should().Throw<ArgumentException>().WithParameterName("featureBatches");
    }
}
