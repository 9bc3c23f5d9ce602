using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Tests.Reliability;

/// <summary>
/// The options beyond the paper at their numeric edges, on both paths: each gives the documented result or a clear
/// refusal at tiny and huge scales, across the whole accepted range of its numeric option, and under upstream gradients
/// up to the dtype's limit.
/// </summary>
public abstract class NumericEdgeTests(bool referencePath) : BothPaths(referencePath)
{
    private static readonly double[,] SmallBatch = { { 1, 2 }, { -1, 0.5 }, { 3, -2 }, { 0, 1 } };

    private static Tensor Features(double scale, ScalarType dtype) =>
        (tensor(SmallBatch, dtype: ScalarType.Float64) * scale).to(dtype);

    private static Tensor Labels(ScalarType dtype) => arange(4, dtype: dtype);

    private static (double Loss, double[] Gradient) LossAndGradient(Tensor features, Tensor labels, FeatureSimilarity similarity, FeatureRanking? ranking = null)
    {
        var input = features.clone().requires_grad_();
        var loss = new RankSimLoss(ranking, similarity, subsampleDistinctLabels: false).call(input, labels);
        loss.backward();
        return (loss.to(ScalarType.Float64).item<double>(), input.grad!.Doubles());
    }

    [Fact]
    public void CenteredCosineAppliesItsNormFloorToTheFeaturesAsPassed()
    {
        using var scope = NewDisposeScope();

        // Every centered row of x * 1e-20 is shorter than the floor 1e-12, so the similarities are the centered rows'
        // dot products over 1e-24: the ranks, and so the loss, of the dot product of x minus its mean.
        var x = Features(1, ScalarType.Float64);
        var expected = LossAndGradient(x - x.mean([0], keepdim: true), Labels(ScalarType.Float64), FeatureSimilarity.DotProduct).Loss;
        var (loss, gradient) = LossAndGradient(Features(1e-20, ScalarType.Float64), Labels(ScalarType.Float64), FeatureSimilarity.CenteredCosine);
        loss.Should().BeApproximately(expected, 1e-12);
        gradient.Should().OnlyContain(g => double.IsFinite(g));

        // Features far below the floor, down to subnormal numbers: a finite loss and a finite gradient far below 1.
        foreach (var (scale, dtype) in new[] { (1e-309, ScalarType.Float64), (1e-312, ScalarType.Float64), (1e-42, ScalarType.Float32), (1e-30, ScalarType.Float32) })
        {
            var (tinyLoss, tinyGradient) = LossAndGradient(Features(scale, dtype), Labels(dtype), FeatureSimilarity.CenteredCosine);
            double.IsFinite(tinyLoss).Should().BeTrue($"scale {scale:G} {dtype}");
            tinyGradient.Should().OnlyContain(g => double.IsFinite(g) && Math.Abs(g) < 1, $"scale {scale:G} {dtype}");
        }
    }

    [Fact]
    public void SoftRanksOfDotProductsThatOverflowStayFinite()
    {
        using var scope = NewDisposeScope();

        // Float32 dot products of rows near 1e19 overflow to infinity; equal infinities are 0 apart.
        var (soft, softGradient) = LossAndGradient(Features(1e19, ScalarType.Float32), Labels(ScalarType.Float32), FeatureSimilarity.DotProduct, FeatureRanking.Soft(0.1));
        double.IsFinite(soft).Should().BeTrue();
        softGradient.Should().OnlyContain(g => double.IsFinite(g));
        var (blackbox, _) = LossAndGradient(Features(1e19, ScalarType.Float32), Labels(ScalarType.Float32), FeatureSimilarity.DotProduct);
        blackbox.Should().Be(0.5);
    }

    [Theory]
    [InlineData(1e-30)]
    [InlineData(1e-20)]
    [InlineData(1e-10)]
    public void SoftRanksThatAreExactHaveAZeroGradient(double strength)
    {
        using var scope = NewDisposeScope();
        var values = arange(5, dtype: ScalarType.Float64).mul(0.37).sin().requires_grad_();
        var upstream = arange(5, dtype: ScalarType.Float64).mul(1.3).cos();
        var ranks = ranksim.nn.functional.soft_rank(values, strength);
        ranks.backward([upstream]);
        ranks.Doubles().Should().Equal(1, 2, 3, 4, 5);
        values.grad!.Doubles().Should().OnlyContain(g => g == 0, "every block has one element: u - its mean is exactly 0");
    }

    [Theory]
    [InlineData(1e-30)]
    [InlineData(1.0)]
    [InlineData(1e30)]
    public void SoftRanksTakeUpstreamGradientsUpToTheDtypesLimit(double strength)
    {
        using var scope = NewDisposeScope();
        var values = tensor(new[] { 0.5f, -1.25f, 2f, 0.75f, -0.3f }).requires_grad_();
        var upstream = tensor(new[] { 1f, -0.5f, 0.25f, 0.9f, -1f }) * 3e38f;
        ranksim.nn.functional.soft_rank(values, strength).backward([upstream]);
        var gradient = values.grad!.Doubles();
        gradient.Should().OnlyContain(g => double.IsFinite(g));
        if (strength == 1e-30)
        {
            gradient.Should().OnlyContain(g => g == 0, "the ranks are exact, each value its own block");
        }

        values.grad!.zero_();
        ranksim.nn.functional.soft_rank(values, strength, descending: true, normalized: true).backward([upstream]);
        values.grad!.Doubles().Should().OnlyContain(g => double.IsFinite(g));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ChangingBlackboxRanksInPlaceDoesNotReachTheirGradient(int dimensions)
    {
        using var scope = NewDisposeScope();
        var scores = randn(3, 4, generator: new Generator(5));
        scores = dimensions == 1 ? scores[0] : scores;
        var weights = randn(scores.shape, generator: new Generator(6));

        var untouched = scores.clone().requires_grad_();
        (ranksim.nn.functional.blackbox_rank(untouched, 2.0) * weights).sum().backward();

        // Changed without autograd, or by an operation whose derivative is 1: the upstream gradient is the same, and so
        // is the gradient, which comes from the ranks as they were computed.
        var changed = scores.clone().requires_grad_();
        var ranks = ranksim.nn.functional.blackbox_rank(changed, 2.0);
        using (no_grad())
        {
            ranks.mul_(0).add_(0.25);
        }

        (ranks * weights).sum().backward();
        changed.grad!.Doubles().Should().Equal(untouched.grad!.Doubles());

        var shifted = scores.clone().requires_grad_();
        var shiftedRanks = ranksim.nn.functional.blackbox_rank(shifted, 2.0);
        shiftedRanks.add_(0.25);
        (shiftedRanks * weights).sum().backward();
        shifted.grad!.Doubles().Should().Equal(untouched.grad!.Doubles());

        // Scaled in place: the upstream gradient is scaled, as autograd records it.
        var doubled = scores.clone().requires_grad_();
        (ranksim.nn.functional.blackbox_rank(doubled, 2.0) * (weights * 2)).sum().backward();
        var scaled = scores.clone().requires_grad_();
        var scaledRanks = ranksim.nn.functional.blackbox_rank(scaled, 2.0);
        scaledRanks.mul_(2);
        (scaledRanks * weights).sum().backward();
        scaled.grad!.Doubles().Should().Equal(doubled.grad!.Doubles());
    }

    public static TheoryData<double, string, string, string> Scales()
    {
        var data = new TheoryData<double, string, string, string>();
        foreach (double scale in new[] { 1e-40, 1e-20, 1.0, 1e15, 1e19 })
        {
            foreach (string similarity in new[] { "Cosine", "CenteredCosine", "DotProduct" })
            {
                foreach (string ranking in new[] { "Blackbox", "PerRow", "Soft" })
                {
                    foreach (string dtype in new[] { "Float32", "Float64" })
                    {
                        data.Add(scale, similarity, ranking, dtype);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Scales))]
    public void EverySimilarityAndRankingStaysFiniteAtTinyAndHugeScales(double scale, string similarity, string ranking, string dtype)
    {
        using var scope = NewDisposeScope();
        var type = Enum.Parse<ScalarType>(dtype);
        var generator = new Generator(11);
        var features = (randn(24, 6, dtype: ScalarType.Float64, generator: generator) * scale).to(type);
        var labels = randint(0, 8, [24], generator: generator).to(type);
        FeatureRanking option = ranking switch
        {
            "Blackbox" => FeatureRanking.Blackbox(2.0),
            "PerRow" => FeatureRanking.Blackbox(2.0, PerturbationScaling.PerRow),
            _ => FeatureRanking.Soft(0.1),
        };
        var input = features.requires_grad_();
        var loss = new RankSimLoss(option, Enum.Parse<FeatureSimilarity>(similarity), Reduction.Sum, generator: new Generator(3)).call(input, labels);
        loss.backward();
        double.IsFinite(loss.to(ScalarType.Float64).item<double>()).Should().BeTrue();
        input.grad!.Doubles().Should().OnlyContain(g => double.IsFinite(g));
    }

    [Theory]
    [InlineData(1e-30)]
    [InlineData(1e-12)]
    [InlineData(1e-3)]
    [InlineData(1e3)]
    [InlineData(1e12)]
    [InlineData(1e30)]
    public void EveryNumericOptionStaysFiniteAcrossItsAcceptedRange(double value)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(12);
        var features = randn(20, 5, generator: generator);
        var labels = randint(0, 6, [20], generator: generator).to(ScalarType.Float32);
        var upstream = tensor(float.MaxValue);
        foreach (var ranking in new FeatureRanking[] { FeatureRanking.Blackbox(value), FeatureRanking.Blackbox(value, PerturbationScaling.PerRow), FeatureRanking.Soft(value) })
        {
            var input = features.clone().requires_grad_();
            var loss = new RankSimLoss(ranking, generator: new Generator(4)).call(input, labels);
            double.IsFinite(loss.item<float>()).Should().BeTrue($"{ranking}");
            loss.backward([upstream]);
            input.grad!.Doubles().Should().OnlyContain(g => double.IsFinite(g), $"{ranking} under an upstream gradient of float32's largest value");
        }

        double weight = Math.Min(value, OrdinalEntropyLoss.MaxWeight);
        var entropyInput = features.clone().requires_grad_();
        var entropy = new OrdinalEntropyLoss(weight, weight).call(entropyInput, labels);
        entropy.backward();
        double.IsFinite(entropy.item<float>()).Should().BeTrue();
        entropyInput.grad!.Doubles().Should().OnlyContain(g => double.IsFinite(g));
    }
}

public sealed class NumericEdgeWithKernelsTests() : NumericEdgeTests(referencePath: false);

public sealed class NumericEdgeOnReferencePathTests() : NumericEdgeTests(referencePath: true);
