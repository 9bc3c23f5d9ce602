using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Tests.Reliability;

/// <summary>Properties of RankSim over a few hundred seeded random cases each (batch 1..300, dim 1..64, lambda 0.1..20).</summary>
public abstract class RankSimPropertyTests(bool referencePath) : BothPaths(referencePath)
{
    private const int Cases = 300;

    [Fact]
    public void LossIsFiniteNonNegativeAndAtMostTheNumberOfAnchors()
    {
        var random = new RandomCases(1);
        for (int c = 0; c < Cases; c++)
        {
            using var scope = NewDisposeScope();
            var features = random.Features(random.FloatDtype()).requires_grad_();
            var labels = random.Labels(features.shape[0], repeats: c % 2 == 0);
            var loss = new RankSimLoss(FeatureRanking.Blackbox(random.Lambda()), generator: new Generator((ulong)c));
            var perAnchor = new RankSimLoss(FeatureRanking.Blackbox(random.Lambda()), generator: new Generator((ulong)c), reduction: Reduction.None).call(features, labels);
            var value = loss.call(features, labels);
            value.backward();

            double v = value.to(ScalarType.Float64).item<double>();
            v.Should().BeGreaterThanOrEqualTo(0).And.BeLessThanOrEqualTo(perAnchor.shape[0], $"case {c}");
            double.IsFinite(v).Should().BeTrue();
            features.grad!.isfinite().all().item<bool>().Should().BeTrue($"case {c}");
        }
    }

    [Fact]
    public void LossIsInvariantToPositiveScalingOfTheFeatures()
    {
        var random = new RandomCases(2);
        for (int c = 0; c < Cases; c++)
        {
            using var scope = NewDisposeScope();
            var dtype = random.FloatDtype();
            var features = random.Features(dtype);
            var labels = random.Labels(features.shape[0], repeats: c % 2 == 0);

            // float64 takes any factor; float32 takes powers of two, which scale exactly.
            double factor = dtype == ScalarType.Float64 ? random.Uniform(1e-3, 1e3) : Math.Pow(2, random.Next(-20, 20));
            double a = new RankSimLoss(generator: new Generator((ulong)c)).call(features, labels).to(ScalarType.Float64).item<double>();
            double b = new RankSimLoss(generator: new Generator((ulong)c)).call(features * factor, labels).to(ScalarType.Float64).item<double>();
            b.Should().Be(a, $"case {c}, factor {factor}");
        }
    }

    [Fact]
    public void LossIsInvariantToIncreasingAffineMapsOfTheLabels()
    {
        var random = new RandomCases(3);
        for (int c = 0; c < Cases; c++)
        {
            using var scope = NewDisposeScope();
            var features = random.Features(ScalarType.Float64);
            bool repeats = c % 2 == 0;
            var labels = random.Labels(features.shape[0], repeats).to(ScalarType.Float64);

            // Integer labels tie exactly (y - d, y + d): maps that keep those ties exact are 2^k y + integer.
            double scale = repeats ? Math.Pow(2, random.Next(-4, 4)) : random.Uniform(0.01, 100);
            double shift = repeats ? random.Next(-1000, 1000) : random.Uniform(-1e3, 1e3);
            double a = new RankSimLoss(generator: new Generator((ulong)c)).call(features, labels).item<double>();
            double b = new RankSimLoss(generator: new Generator((ulong)c)).call(features, labels * scale + shift).item<double>();
            b.Should().Be(a, $"case {c}");
        }
    }

    [Fact]
    public void PermutingABatchOfDistinctLabelsPermutesLossesAndGradientRows()
    {
        var random = new RandomCases(4);
        for (int c = 0; c < Cases; c++)
        {
            using var scope = NewDisposeScope();
            // With D = 1 every cosine similarity is +-1: ties, which any deterministic tie-break orders by position.
            var features = random.Features(ScalarType.Float64);
            if (features.shape[1] == 1)
            {
                features = cat([features, randn_like(features)], 1);
            }

            features.requires_grad_();
            long batch = features.shape[0];
            var labels = random.Labels(batch, repeats: false);
            var permutation = randperm(batch, generator: new Generator((ulong)c));
            var permuted = features.detach().index_select(0, permutation).requires_grad_();
            var loss = new RankSimLoss(FeatureRanking.Blackbox(random.Lambda()), reduction: Reduction.None);

            var perAnchor = loss.call(features, labels);
            perAnchor.sum().backward();
            var perAnchorPermuted = loss.call(permuted, labels.index_select(0, permutation));
            perAnchorPermuted.sum().backward();

            perAnchorPermuted.Doubles().Should().Equal(perAnchor.index_select(0, permutation).Doubles(), (x, y) => Math.Abs(x - y) <= 1e-12, $"case {c}");
            permuted.grad!.Doubles().Should().Equal(features.grad!.index_select(0, permutation).Doubles(), (x, y) => Math.Abs(x - y) <= 1e-9, $"case {c}");
        }
    }

    [Fact]
    public void RowsDroppedBySubsamplingGetExactlyZeroGradient()
    {
        var random = new RandomCases(5);
        for (int c = 0; c < Cases; c++)
        {
            using var scope = NewDisposeScope();
            var features = random.Features(random.FloatDtype()).requires_grad_();
            long batch = features.shape[0];
            var labels = random.Labels(batch, repeats: true);
            new RankSimLoss(FeatureRanking.Blackbox(random.Lambda()), generator: new Generator((ulong)c)).call(features, labels).backward();

            long distinct = labels.unique().Item1.shape[0];
            long rowsWithGradient = features.grad!.ne(0).any(1).sum().item<long>();
            rowsWithGradient.Should().BeLessThanOrEqualTo(distinct, $"case {c}: at most one row per distinct label can get a gradient");
        }
    }

    [Fact]
    public void EveryRankerRowIsAPermutationOfTheNormalizedRanks()
    {
        var random = new RandomCases(6);
        for (int c = 0; c < Cases; c++)
        {
            using var scope = NewDisposeScope();
            int rows = random.Next(1, 20), n = random.Next(1, 300);
            var scores = c % 3 == 0
                ? randint(0, 3, [rows, n], generator: new Generator((ulong)c)).to(random.FloatDtype())
                : randn(rows, n, dtype: random.FloatDtype(), generator: new Generator((ulong)c));
            var ranks = BlackboxRank.Apply(scores, random.Lambda());
            var expected = arange(1, n + 1, dtype: ScalarType.Float64).div(n).Doubles();
            var sorted = ranks.to(ScalarType.Float64).sort(-1).Values;
            for (int r = 0; r < rows; r++)
            {
                sorted[r].Doubles().Should().Equal(expected, (x, y) => Math.Abs(x - y) <= 1e-6, $"case {c}, row {r}");
            }
        }
    }
}

/// <summary><see cref="RankSimPropertyTests"/> with the CPU kernels.</summary>
public sealed class RankSimPropertyWithKernelsTests() : RankSimPropertyTests(referencePath: false);

/// <summary><see cref="RankSimPropertyTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class RankSimPropertyOnReferencePathTests() : RankSimPropertyTests(referencePath: true);
