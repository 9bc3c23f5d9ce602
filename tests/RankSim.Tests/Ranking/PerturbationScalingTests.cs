using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Tests.Ranking;

/// <summary><see cref="PerturbationScaling.PerRow"/> on both paths: what it promises, and the paper's rule untouched.</summary>
public abstract class PerturbationScalingTests(bool referencePath) : BothPaths(referencePath)
{
    private static (Tensor Features, Tensor Labels) Batch(int seed)
    {
        var generator = new Generator((ulong)seed);
        return (randn(96, 16, generator: generator), randint(0, 30, [96], generator: generator).to(ScalarType.Float32));
    }

    private static Tensor Gradient(RankSimLoss loss, Tensor features, Tensor labels, double gamma)
    {
        var input = features.clone().requires_grad_();
        (loss.call(input, labels) * gamma).backward();
        return input.grad!.detach().clone();
    }

    [Fact]
    public void ThePerRowGradientIsLinearInTheLossWeightWhereThePapersIsNot()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = Batch(1);
        var perRow = new RankSimLoss(FeatureRanking.Blackbox(0.5, PerturbationScaling.PerRow), generator: new Generator(2));
        var unit = Gradient(perRow, features, labels, 1);
        perRow = new RankSimLoss(FeatureRanking.Blackbox(0.5, PerturbationScaling.PerRow), generator: new Generator(2));
        var scaled = Gradient(perRow, features, labels, 1e-4);
        unit.abs().max().item<float>().Should().BeGreaterThan(0);
        (scaled - unit * 1e-4).abs().max().item<float>().Should().BeLessThan(1e-4f * 1e-3f * unit.abs().max().item<float>());

        // The paper's rule at gamma = 1e-4: lambda * g is too small to move any similarity past a neighbour.
        var paper = new RankSimLoss(FeatureRanking.Blackbox(0.5), generator: new Generator(2));
        Gradient(paper, features, labels, 1e-4).abs().max().item<float>().Should().Be(0);
    }

    [Fact]
    public void APerRowStepLowersTheRankSimTermWhereThePaperStepCannotMoveIt()
    {
        // gamma = 1e-3 and plain gradient descent on the features: the paper's gradient hardly moves the term (it rose
        // by 0.01% when this was written), the per-row one lowers it.
        using var scope = NewDisposeScope();
        foreach (var scaling in new[] { PerturbationScaling.Paper, PerturbationScaling.PerRow })
        {
            var (start, labels) = Batch(3);
            var features = start.clone().requires_grad_();
            var loss = new RankSimLoss(FeatureRanking.Blackbox(1, scaling), subsampleDistinctLabels: false);
            float before = loss.call(features, labels).item<float>();
            for (int step = 0; step < 200; step++)
            {
                features.grad?.zero_();
                (loss.call(features, labels) * 1e-3).backward();
                using (no_grad())
                {
                    features.sub_(features.grad! * 1e3);
                }
            }

            float after = loss.call(features, labels).item<float>();
            if (scaling == PerturbationScaling.Paper)
            {
                after.Should().BeGreaterThan(0.95f * before, "lambda * g moves almost no similarity past a neighbour");
            }
            else
            {
                after.Should().BeLessThan(0.8f * before);
            }
        }
    }

    [Fact]
    public void ThePapersRuleIsTheDefault()
    {
        new RankSimLoss().Ranking.Should().BeOfType<BlackboxRanking>().Which.Scaling.Should().Be(PerturbationScaling.Paper);
        FluentActions.Invoking(() => FeatureRanking.Blackbox(2, (PerturbationScaling)7)).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("scaling");
    }

    [Theory]
    [InlineData(Reduction.Sum)]
    [InlineData(Reduction.None)]
    public void AZeroUpstreamGradientGivesAZeroGradient(Reduction reduction)
    {
        using var scope = NewDisposeScope();
        var (features, labels) = Batch(4);
        var input = features.clone().requires_grad_();
        var loss = new RankSimLoss(FeatureRanking.Blackbox(scaling: PerturbationScaling.PerRow), reduction: reduction, generator: new Generator(5));
        var value = loss.call(input, labels);
        var upstream = reduction == Reduction.None ? zeros_like(value) : tensor(0f);
        value.backward([upstream]);
        input.grad!.abs().max().item<float>().Should().Be(0, "a zero upstream gradient gives a zero gradient");
    }

    [Fact]
    public void ANonFiniteUpstreamGradientComesOutNonFiniteWhereThePapersRuleDoes()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = Batch(6);
        Tensor NonFinite(PerturbationScaling scaling)
        {
            var input = features.clone().requires_grad_();
            var loss = new RankSimLoss(FeatureRanking.Blackbox(scaling: scaling), reduction: Reduction.None, generator: new Generator(7));
            var value = loss.call(input, labels);
            var upstream = ones_like(value);
            upstream[3] = float.NaN;
            value.backward([upstream]);
            return input.grad!.isfinite().logical_not();
        }

        var paper = NonFinite(PerturbationScaling.Paper);
        paper.any().item<bool>().Should().BeTrue("a NaN upstream gradient is passed on, not hidden");
        NonFinite(PerturbationScaling.PerRow).eq(paper).all().item<bool>().Should().BeTrue();
    }
}

/// <summary><see cref="PerturbationScalingTests"/> with the CPU kernels.</summary>
public sealed class PerturbationScalingWithKernelsTests() : PerturbationScalingTests(referencePath: false);

/// <summary><see cref="PerturbationScalingTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class PerturbationScalingOnReferencePathTests() : PerturbationScalingTests(referencePath: true);
