using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Tests.Core;

/// <summary>The options of <see cref="RankSimLoss"/> beyond the paper (centered cosine, soft ranks) on both paths.</summary>
public abstract class RankSimLossOptionsTests(bool referencePath) : BothPaths(referencePath)
{
    private static (Tensor Features, Tensor Labels) Batch(int seed, ScalarType dtype = ScalarType.Float32)
    {
        var generator = new Generator((ulong)seed);
        return (randn(64, 12, dtype: dtype, generator: generator), randint(0, 25, [64], generator: generator).to(dtype));
    }

    [Fact]
    public void TheDefaultsAreThePapersAndBadValuesAreRefusedByName()
    {
        var loss = new RankSimLoss();
        var blackbox = loss.Ranking.Should().BeOfType<BlackboxRanking>().Subject;
        blackbox.InterpolationLambda.Should().Be(2.0);
        blackbox.Scaling.Should().Be(PerturbationScaling.Paper);
        loss.Similarity.Should().Be(FeatureSimilarity.Cosine);
        loss.Reduction.Should().Be(Reduction.Sum);
        FeatureRanking.Soft().RegularizationStrength.Should().Be(0.1);
        foreach (double bad in new[] { 0, -0.1, double.NaN, 1e31 })
        {
            FluentActions.Invoking(() => FeatureRanking.Soft(bad)).Should()
                .Throw<ArgumentOutOfRangeException>().WithParameterName("regularizationStrength");
        }
    }

    /// <summary>
    /// Integer labels tie in distance (anchor 4 is as far from 3 as from 5). The case and its three values come from
    /// Fixtures/reference_checks.py (PyTorch 1.13): ties in index order (the earlier index ranks first) 0.62037, average
    /// ranks 0.60185; the reference's argsort(...).flip(1), which ranks the later index first in rows this short, 0.59259.
    /// </summary>
    [Fact]
    public void TiedLabelDistancesRankInIndexOrderOrShareTheirAverageRank()
    {
        using var scope = NewDisposeScope();
        var features = tensor(new float[]
        {
            -1.1258398294448853f, -1.152360200881958f, -0.2505785822868347f, -0.4338788092136383f,
            0.8487103581428528f, 0.6920091509819031f, -0.31601276993751526f, -2.1152193546295166f,
            0.46809640526771545f, -0.1577124446630478f, 1.4436601400375366f, 0.26604941487312317f,
            0.16645534336566925f, 0.8743818402290344f, -0.14347384870052338f, -0.1116093322634697f,
            0.9318265914916992f, 1.2590092420578003f, 2.0049805641174316f, 0.05373690277338028f,
            0.6180566549301147f, -0.41280221939086914f, -0.8410648107528687f, -2.316041946411133f,
        }).reshape(6, 4);
        var labels = tensor(new float[] { 1, 3, 4, 7, 10, 15 });
        double Loss(RankTies ties) => new RankSimLoss(labelTies: ties).call(features, labels).item<float>();

        Loss(RankTies.IndexOrder).Should().BeApproximately(0.6203703, 1e-6);
        Loss(RankTies.Average).Should().BeApproximately(0.6018518, 1e-6);
    }

    /// <summary>
    /// With a label bin width, exactly one sample per occupied bin [k w, (k + 1) w) is kept (per-anchor losses [M], one
    /// gradient row per bin), whatever the bins hold; a width below every label gap keeps what one sample per distinct
    /// label keeps, bit for bit, from the same generator state.
    /// </summary>
    [Theory]
    [InlineData(1.0)]
    [InlineData(2.5)]
    [InlineData(40.0)]
    public void ALabelBinWidthKeepsOneSamplePerOccupiedBin(double width)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var features = randn(300, 16, generator: generator).requires_grad_();
        var labels = rand(300, generator: generator) * 100;   // continuous: every label distinct
        var bins = labels.to(ScalarType.Float64).div(width).floor();
        long occupied = bins.unique().Item1.size(0);

        var loss = new RankSimLoss(reduction: Reduction.None, generator: new Generator(9), labelBinWidth: width);
        loss.LabelBinWidth.Should().Be(width);
        var perAnchor = loss.call(features, labels);
        perAnchor.size(0).Should().Be(occupied);
        perAnchor.sum().backward();

        var rowsWithGradient = features.grad!.abs().sum(1).gt(0);
        rowsWithGradient.sum().item<long>().Should().Be(occupied, "the kept samples, and only they, get a gradient");
        bins.masked_select(rowsWithGradient).unique().Item1.size(0).Should().Be(occupied, "no two kept samples share a bin");
    }

    [Fact]
    public void ABinWidthBelowEveryLabelGapKeepsWhatDistinctLabelsKeep()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = Batch(3);
        var byValue = features.clone().requires_grad_();
        var byBin = features.clone().requires_grad_();
        var exact = new RankSimLoss(generator: new Generator(4)).call(byValue, labels);
        var binned = new RankSimLoss(generator: new Generator(4), labelBinWidth: 0.5).call(byBin, labels);   // integer labels
        exact.backward();
        binned.backward();

        binned.item<float>().Should().Be(exact.item<float>());
        byBin.grad!.Doubles().Should().Equal(byValue.grad!.Doubles());
    }

    [Fact]
    public void ABadLabelBinWidthIsRefusedByName()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = Batch(2);
        foreach (double bad in new[] { 0, -1, double.NaN, double.PositiveInfinity })
        {
            FluentActions.Invoking(() => new RankSimLoss(labelBinWidth: bad)).Should()
                .Throw<ArgumentOutOfRangeException>().WithParameterName("labelBinWidth");
            FluentActions.Invoking(() => ranksim.nn.functional.ranksim_loss(features, labels, label_bin_width: bad)).Should()
                .Throw<ArgumentOutOfRangeException>().WithParameterName("label_bin_width");
        }

        FluentActions.Invoking(() => new RankSimLoss(subsampleDistinctLabels: false, labelBinWidth: 1)).Should()
            .Throw<ArgumentException>().WithParameterName("labelBinWidth").WithMessage("*subsampleDistinctLabels*");
        FluentActions.Invoking(() => ranksim.nn.RankSimLoss(subsample_distinct_labels: false, label_bin_width: 1)).Should()
            .Throw<ArgumentException>().WithParameterName("labelBinWidth");
        FluentActions.Invoking(() => ranksim.nn.functional.ranksim_loss(features, labels, subsample_distinct_labels: false, label_bin_width: 1)).Should()
            .Throw<ArgumentException>().WithParameterName("label_bin_width").WithMessage("*subsample_distinct_labels*");
    }

    [Fact]
    public void CenteredCosineIgnoresADirectionSharedByAllFeaturesWherePlainCosineDoesNot()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = Batch(1, ScalarType.Float64);
        var shared = randn(1, 12, dtype: ScalarType.Float64, generator: new Generator(2)) * 5;
        double Loss(FeatureSimilarity similarity, Tensor f) =>
            new RankSimLoss(subsampleDistinctLabels: false, similarity: similarity).call(f, labels).item<double>();

        Loss(FeatureSimilarity.CenteredCosine, features + shared).Should().BeApproximately(Loss(FeatureSimilarity.CenteredCosine, features), 1e-12);
        Loss(FeatureSimilarity.Cosine, features + shared).Should().NotBe(Loss(FeatureSimilarity.Cosine, features));
    }

    [Fact]
    public void TheCenteredSimilarityGradientMatchesCentralDifferencesAndSumsToZero()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        var features = randn(10, 4, dtype: ScalarType.Float64, generator: generator) + 2;
        var upstream = randn(6, 6, dtype: ScalarType.Float64, generator: generator);
        var rows = tensor(new long[] { 0, 2, 3, 5, 7, 9 });
        var input = features.clone().requires_grad_();
        (SimilarityMatrix.Pairwise(input, FeatureSimilarity.CenteredCosine, rows) * upstream).sum().backward();
        var analytic = input.grad!.Doubles();

        double Objective(Tensor f) => (SimilarityMatrix.Pairwise(f, FeatureSimilarity.CenteredCosine, rows) * upstream).sum().item<double>();
        const double h = 1e-6;
        var numeric = new double[40];
        for (int k = 0; k < 40; k++)
        {
            var up = features.clone();
            var down = features.clone();
            up.view(-1)[k] += h;
            down.view(-1)[k] -= h;
            numeric[k] = (Objective(up) - Objective(down)) / (2 * h);
        }

        analytic.Should().Equal(numeric, (a, e) => Math.Abs(a - e) <= 1e-6 * (1 + Math.Abs(e)));
        input.grad!.sum([0]).abs().max().item<double>().Should().BeLessThan(1e-12, "moving all features together changes nothing");
        input.grad!.select(0, 1).abs().max().item<double>().Should().Be(0, "rows that are not ranked get no gradient");
    }

    [Fact]
    public void CenteredCosineOfHugeFeaturesStaysFinite()
    {
        using var scope = NewDisposeScope();
        var features = (rand(8, 3, generator: new Generator(4)) * 3e38f).requires_grad_();
        var loss = new RankSimLoss(subsampleDistinctLabels: false, similarity: FeatureSimilarity.CenteredCosine).call(features, arange(8));
        float.IsFinite(loss.item<float>()).Should().BeTrue();
        loss.backward();
        features.grad!.isfinite().all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void TheSoftRankLossGradientMatchesCentralDifferencesInFloat64()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = Batch(5, ScalarType.Float64);
        features = features[TensorIndex.Slice(0, 14)];
        labels = labels[TensorIndex.Slice(0, 14)];
        var loss = new RankSimLoss(FeatureRanking.Soft(0.3), subsampleDistinctLabels: false);
        var input = features.clone().requires_grad_();
        loss.call(input, labels).backward();
        var analytic = input.grad!.Doubles();

        const double h = 1e-7;
        var numeric = new double[analytic.Length];
        for (int k = 0; k < numeric.Length; k++)
        {
            var up = features.clone();
            var down = features.clone();
            up.view(-1)[k] += h;
            down.view(-1)[k] -= h;
            numeric[k] = (loss.call(up, labels).item<double>() - loss.call(down, labels).item<double>()) / (2 * h);
        }

        analytic.Should().Equal(numeric, (a, e) => Math.Abs(a - e) <= 1e-5 * (1 + Math.Abs(e)));
        analytic.Should().Contain(v => Math.Abs(v) > 1e-4);
    }

    [Theory]
    [InlineData(FeatureSimilarity.Cosine)]
    [InlineData(FeatureSimilarity.CenteredCosine)]
    public void GradientStepsOnTheSoftLossLowerTheExactRankSimTerm(FeatureSimilarity similarity)
    {
        using var scope = NewDisposeScope();
        var (start, labels) = Batch(6);
        var features = start.clone().requires_grad_();
        var soft = new RankSimLoss(FeatureRanking.Soft(), similarity, subsampleDistinctLabels: false);
        var exact = new RankSimLoss(subsampleDistinctLabels: false, similarity: similarity);
        float before = exact.call(features, labels).item<float>();
        for (int step = 0; step < 200; step++)
        {
            features.grad?.zero_();
            soft.call(features, labels).backward();
            using (no_grad())
            {
                features.sub_(features.grad! * 2);
            }
        }

        exact.call(features, labels).item<float>().Should().BeLessThan(0.7f * before);
    }

    [Theory]
    [InlineData(Reduction.Sum)]
    [InlineData(Reduction.Mean)]
    [InlineData(Reduction.None)]
    public void SoftRanksWithEveryReductionAndAZeroUpstreamGradient(Reduction reduction)
    {
        using var scope = NewDisposeScope();
        var (features, labels) = Batch(7);
        var input = features.clone().requires_grad_();
        var loss = new RankSimLoss(FeatureRanking.Soft(), reduction: reduction, generator: new Generator(8));
        var value = loss.call(input, labels);
        value.dim().Should().Be(reduction == Reduction.None ? 1 : 0);
        value.backward([zeros_like(value)]);
        input.grad!.abs().max().item<float>().Should().Be(0);
    }
}

/// <summary><see cref="RankSimLossOptionsTests"/> with the CPU kernels.</summary>
public sealed class RankSimLossOptionsWithKernelsTests() : RankSimLossOptionsTests(referencePath: false);

/// <summary><see cref="RankSimLossOptionsTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class RankSimLossOptionsOnReferencePathTests() : RankSimLossOptionsTests(referencePath: true);
