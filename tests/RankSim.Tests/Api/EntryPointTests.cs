using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Tests.Api;

/// <summary>
/// Each functional form in <see cref="ranksim.nn.functional"/> against its module (the same values and gradients, on both
/// paths), the factories against the constructors, and the porting conventions (two-argument weighted losses, the
/// torchsort soft-rank convention).
/// </summary>
public abstract class EntryPointTests(bool referencePath) : BothPaths(referencePath)
{
    private static (Tensor Features, Tensor Labels) Batch(int seed)
    {
        var generator = new Generator((ulong)seed);
        return (randn(48, 10, generator: generator), randint(0, 20, [48], generator: generator).to(ScalarType.Float32));
    }

    /// <summary>The value and the gradient of a random projection of f(x) with respect to x.</summary>
    private static (double[] Value, double[] Gradient) ValueAndGradient(Func<Tensor, Tensor> f, Tensor x, int seed)
    {
        var input = x.detach().clone().requires_grad_();
        var value = f(input);
        var upstream = randn(value.shape, dtype: value.dtype, generator: new Generator((ulong)seed));
        (value * upstream).sum().backward();
        return (value.Doubles(), input.grad!.Doubles());
    }

    private static void Same(Func<Tensor, Tensor> module, Func<Tensor, Tensor> functional, Tensor x)
    {
        using var scope = NewDisposeScope();
        var (moduleValue, moduleGradient) = ValueAndGradient(module, x, 11);
        var (functionalValue, functionalGradient) = ValueAndGradient(functional, x, 11);
        functionalValue.Should().Equal(moduleValue);
        functionalGradient.Should().Equal(moduleGradient);
        moduleGradient.Should().Contain(g => g != 0, "a test of gradients needs a gradient");
    }

    public static TheoryData<string> Rankings => new() { "blackbox", "blackbox-per-row", "soft" };

    private static FeatureRanking Ranking(string name) => name switch
    {
        "blackbox" => FeatureRanking.Blackbox(2.0),
        "blackbox-per-row" => FeatureRanking.Blackbox(0.5, PerturbationScaling.PerRow),
        _ => FeatureRanking.Soft(0.2),
    };

    [Theory]
    [MemberData(nameof(Rankings))]
    public void RankSimLossFunctionalMatchesTheModule(string ranking)
    {
        using var scope = NewDisposeScope();
        var (features, labels) = Batch(1);
        foreach (var similarity in new[] { FeatureSimilarity.Cosine, FeatureSimilarity.CenteredCosine })
        {
            var module = ranksim.nn.RankSimLoss(Ranking(ranking), similarity, generator: new Generator(5));
            var functionalGenerator = new Generator(5);
            Same(
                f => module.call(f, labels),
                f => ranksim.nn.functional.ranksim_loss(f, labels, Ranking(ranking), similarity, generator: functionalGenerator),
                features);
        }
    }

    [Fact]
    public void RankSimLossDefaultsAreThePapersInBothForms()
    {
        using var scope = NewDisposeScope();
        var (features, labels) = Batch(2);
        var explicitPaper = new RankSimLoss(FeatureRanking.Blackbox(2.0, PerturbationScaling.Paper), FeatureSimilarity.Cosine, Reduction.Sum,
            subsampleDistinctLabels: false);
        Same(
            f => explicitPaper.call(f, labels),
            f => ranksim.nn.functional.ranksim_loss(f, labels, subsample_distinct_labels: false),
            features);
    }

    [Fact]
    public void RankerFunctionalsMatchTheirModules()
    {
        using var scope = NewDisposeScope();
        var scores = randn(5, 9, generator: new Generator(3));
        var blackbox = ranksim.nn.BlackboxRanker(interpolation_lambda: 1.5);
        Same(s => blackbox.call(s), s => ranksim.nn.functional.blackbox_rank(s, 1.5), scores);
        foreach (bool descending in new[] { false, true })
        {
            foreach (bool normalized in new[] { false, true })
            {
                var soft = ranksim.nn.SoftRanker(0.3, descending, normalized);
                Same(s => soft.call(s), s => ranksim.nn.functional.soft_rank(s, 0.3, descending, normalized), scores);
            }
        }
    }

    [Fact]
    public void WeightedLossFunctionalsMatchTheirModulesWithAndWithoutWeights()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(4);
        var pred = randn(16, generator: generator) * 3;
        var target = randn(16, generator: generator) * 3;
        var weights = rand(16, generator: generator) + 0.5;
        foreach (var w in new[] { null, weights })
        {
            foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None })
            {
                var mse = ranksim.nn.WeightedMSELoss(reduction);
                Same(p => mse.call(p, target, w), p => ranksim.nn.functional.weighted_mse_loss(p, target, w, reduction), pred);
                var l1 = ranksim.nn.WeightedL1Loss(reduction);
                Same(p => l1.call(p, target, w), p => ranksim.nn.functional.weighted_l1_loss(p, target, w, reduction), pred);
                var huber = ranksim.nn.WeightedHuberLoss(0.7, reduction);
                Same(p => huber.call(p, target, w), p => ranksim.nn.functional.weighted_huber_loss(p, target, w, 0.7, reduction), pred);
                foreach (var activation in new[] { FocalRActivation.Sigmoid, FocalRActivation.Tanh })
                {
                    var focalL1 = ranksim.nn.FocalRLoss(FocalRBase.L1, activation, 0.3, 1.5, reduction);
                    Same(p => focalL1.call(p, target, w),
                        p => ranksim.nn.functional.weighted_focal_l1_loss(p, target, w, activation, 0.3, 1.5, reduction), pred);
                    var focalMse = ranksim.nn.FocalRLoss(FocalRBase.MSE, activation, 0.3, 1.5, reduction);
                    Same(p => focalMse.call(p, target, w),
                        p => ranksim.nn.functional.weighted_focal_mse_loss(p, target, w, activation, 0.3, 1.5, reduction), pred);
                }
            }
        }
    }

    [Fact]
    public void WeightedLossesTakeTwoArgumentsAndStandWhereALossOfTwoTensorsIsExpected()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(6);
        var pred = randn(12, generator: generator);
        var target = randn(12, generator: generator);
        var losses = new Loss<Tensor, Tensor, Tensor>[]
        {
            new WeightedMSELoss(), new WeightedL1Loss(), new WeightedHuberLoss(0.5), new FocalRLoss(FocalRBase.MSE, FocalRActivation.Tanh),
        };
        foreach (var loss in losses)
        {
            var unweighted = loss.call(pred, target).item<float>();
            unweighted.Should().Be(((WeightedLoss)loss).call(pred, target, ones(12)).item<float>(), $"{loss.GetType().Name} with unit weights");
            unweighted.Should().Be(((WeightedLoss)loss).call(pred, target, null).item<float>());
            unweighted.Should().BeGreaterThan(0);
        }

        // The plain MSE of TorchSharp and the unweighted one agree.
        new WeightedMSELoss().call(pred, target).item<float>().Should().BeApproximately(nn.MSELoss().call(pred, target).item<float>(), 1e-6f);
    }

    [Fact]
    public void BalancedMseFunctionalsMatchTheirModules()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(8);
        var pred = randn(10, generator: generator) * 2 + 5;
        var target = randn(10, generator: generator) * 2 + 5;
        var bmc = ranksim.nn.BMCLoss(init_noise_sigma: 1.7, learnable: false);
        Same(p => bmc.call(p, target), p => ranksim.nn.functional.bmc_loss(p, target, tensor(1.7f).to(ScalarType.Float64).square()), pred);

        var prior = new GaussianMixture([3.0, 6.0], [1.0, 2.0], [0.4, 0.6]);
        var gai = ranksim.nn.GAILoss(prior, init_noise_sigma: 1.7, learnable: false);
        Same(p => gai.call(p, target), p => ranksim.nn.functional.gai_loss(p, target, prior, tensor(1.7f).to(ScalarType.Float64).square()), pred);

        // Multi-dimensional targets (bmc_loss_md).
        var pred2 = randn(10, 3, generator: generator);
        var target2 = randn(10, 3, generator: generator);
        Same(p => bmc.call(p, target2), p => ranksim.nn.functional.bmc_loss(p, target2, tensor(1.7f).to(ScalarType.Float64).square()), pred2);
    }

    [Fact]
    public void TheNoiseVarianceOfTheFunctionalBmcGetsTheModulesGradient()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(9);
        var pred = randn(10, generator: generator);
        var target = randn(10, generator: generator);
        var bmc = ranksim.nn.BMCLoss(init_noise_sigma: 1.3);
        bmc.call(pred, target).backward();
        var sigma = tensor(1.3f).requires_grad_();
        ranksim.nn.functional.bmc_loss(pred, target, sigma.to(ScalarType.Float64).square()).backward();   // the module squares sigma in float64
        sigma.grad!.item<float>().Should().Be(bmc.NoiseSigma.grad!.item<float>());
        sigma.grad!.item<float>().Should().NotBe(0);

        FluentActions.Invoking(() => ranksim.nn.functional.bmc_loss(pred, target, tensor(-1.0f))).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("noise_var");
        FluentActions.Invoking(() => ranksim.nn.functional.bmc_loss(pred, target, ones(2))).Should()
            .Throw<ArgumentException>().WithParameterName("noise_var");
    }

    [Fact]
    public void EachEntryPointChecksItsOptionsOnceAndNamesThemAsItsParameters()
    {
        using var scope = NewDisposeScope();
        var scores = randn(3, 4, generator: new Generator(3));
        FluentActions.Invoking(() => ranksim.nn.functional.blackbox_rank(scores, 0)).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("interpolation_lambda");
        FluentActions.Invoking(() => new BlackboxRanker(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("interpolationLambda");
        FluentActions.Invoking(() => ranksim.nn.functional.soft_rank(scores, 0)).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("regularization_strength");
        FluentActions.Invoking(() => new SoftRanker(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("regularizationStrength");
        FluentActions.Invoking(() => ranksim.nn.functional.ranksim_loss(scores, arange(3), similarity: (FeatureSimilarity)9)).Should()
            .Throw<ArgumentException>().WithParameterName("similarity");
        FluentActions.Invoking(() => ranksim.nn.functional.ordinal_entropy_loss(scores, arange(3), diversity_weight: -1)).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("diversity_weight");

        // The modules' calls check their tensors.
        FluentActions.Invoking(() => new BlackboxRanker().call(zeros(2, 2, 2))).Should().Throw<ArgumentException>().WithParameterName("scores");
        FluentActions.Invoking(() => new SoftRanker().call(zeros(2, 0))).Should().Throw<ArgumentException>().WithParameterName("input");
    }

    [Fact]
    public void SoftRankFollowsTorchsortsConventionByDefault()
    {
        using var scope = NewDisposeScope();

        // torchsort's README: soft_rank([[8, 0, 5, 3, 2, 1, 6, 7, 9]]) at the default strength 1 is [[8, 1, 5, 4, 3, 2, 6, 7, 9]].
        var x = tensor(new float[] { 8, 0, 5, 3, 2, 1, 6, 7, 9 }).reshape(1, 9);
        ranksim.nn.functional.soft_rank(x).Floats().Should().Equal([8, 1, 5, 4, 3, 2, 6, 7, 9], (a, e) => Math.Abs(a - e) <= 1e-5);

        // By hand, epsilon 4: z = [0, 0.25] sorted descending (0.25, 0) minus w = (2, 1) is (-1.75, -1), which is not
        // non-increasing: one block of mean -1.375, so the ranks are z + 1.375 = [1.375, 1.625].
        ranksim.nn.functional.soft_rank(tensor(new double[] { 0, 1 }), 4.0).Doubles().Should().Equal([1.375, 1.625]);

        // Descending and normalized: RankSim's convention, 1/N for the largest.
        var descending = ranksim.nn.functional.soft_rank(tensor(new double[] { 0, 1 }), 4.0, descending: true, normalized: true).Doubles();
        descending.Should().Equal([1.625 / 2, 1.375 / 2]);
        ranksim.nn.functional.soft_rank(x, 1e-3, descending: true).Floats().Should()
            .Equal([2, 9, 5, 6, 7, 8, 4, 3, 1], (a, e) => Math.Abs(a - e) <= 1e-4);
    }

    [Fact]
    public void FactoriesGiveTheModulesTheirSettings()
    {
        using var scope = NewDisposeScope();
        var rankSim = ranksim.nn.RankSimLoss(FeatureRanking.Soft(0.3), FeatureSimilarity.DotProduct, Reduction.Mean, false, RankTies.Average);
        rankSim.Ranking.Should().BeOfType<SoftRanking>().Which.RegularizationStrength.Should().Be(0.3);
        (rankSim.Similarity, rankSim.Reduction, rankSim.SubsampleDistinctLabels, rankSim.LabelTies)
            .Should().Be((FeatureSimilarity.DotProduct, Reduction.Mean, false, RankTies.Average));
        ranksim.nn.BMCLoss(init_noise_sigma: 8).NoiseVariance.item<float>().Should().Be(64);
        ranksim.nn.WeightedHuberLoss(0.25).Beta.Should().Be(0.25);
        ranksim.nn.FocalRLoss(FocalRBase.MSE, FocalRActivation.Tanh, 0.5, 2).Should()
            .BeEquivalentTo(new { BaseLoss = FocalRBase.MSE, Activation = FocalRActivation.Tanh, Beta = 0.5, Gamma = 2.0 });
        ranksim.nn.SoftRanker().Should().BeEquivalentTo(new { RegularizationStrength = 1.0, Descending = false, Normalized = false });
    }
}

/// <summary><see cref="EntryPointTests"/> with the CPU kernels.</summary>
[Collection(SerialCollection.Name)]
public sealed class EntryPointWithKernelsTests() : EntryPointTests(referencePath: false);

/// <summary><see cref="EntryPointTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
[Collection(SerialCollection.Name)]
public sealed class EntryPointOnReferencePathTests() : EntryPointTests(referencePath: true);
