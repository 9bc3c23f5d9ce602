namespace RankSim.Tests.Ranking;

/// <summary><see cref="SoftRank"/> on both paths: worked values, the permutahedron's properties, and the gradient against finite differences.</summary>
public abstract class SoftRankTests(bool referencePath) : BothPaths(referencePath)
{
    [Fact]
    public void WorkedExample()
    {
        // s = [0.1, 0.9, 0.5, 0.3], epsilon = 0.25: z = -4 s sorted = [-0.4, -1.2, -2, -3.6] (columns 0, 3, 2, 1),
        // y = z - (4, 3, 2, 1) = [-4.4, -4.2, -4.0, -4.6]; the first three violate the order and pool to -4.2, so
        // r = (z - v) / 4 = [3.8, 3.0, 2.2, 1.0] / 4 in sorted order, [0.95, 0.25, 0.55, 0.75] by column. For the upstream
        // gradient e_0: (u - block mean) = [2/3, -1/3, -1/3, 0] sorted, times -1 / (N epsilon) = -1.
        using var scope = NewDisposeScope();
        var scores = tensor(new[] { 0.1, 0.9, 0.5, 0.3 }).requires_grad_();
        var ranks = SoftRank.Apply(scores, 0.25);
        ranks.Doubles().Should().Equal([0.95, 0.25, 0.55, 0.75], (a, e) => Math.Abs(a - e) < 1e-12);
        ranks[0].backward();
        scores.grad!.Doubles().Should().Equal([-2.0 / 3, 0, 1.0 / 3, 1.0 / 3], (a, e) => Math.Abs(a - e) < 1e-12);
    }

    [Fact]
    public void ASmallRegularizationGivesTheExactRanksAndALargeOneTheMeanRank()
    {
        using var scope = NewDisposeScope();
        var scores = randn(6, 40, generator: new Generator(3));
        var exact = Ranks.Descending(scores, RankTies.IndexOrder);
        (SoftRank.Apply(scores, 1e-6) - exact).abs().max().item<float>().Should().BeLessThan(1e-6f);
        (SoftRank.Apply(scores, 1e6) - (41.0 / 80)).abs().max().item<float>().Should().BeLessThan(1e-5f);
    }

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.5)]
    [InlineData(5.0)]
    public void EveryRowIsAPointOfThePermutahedronAndEqualScoresShareTheirRank(double regularization)
    {
        using var scope = NewDisposeScope();
        var scores = (randn(8, 30, dtype: ScalarType.Float64, generator: new Generator(5)) * 2).round() / 2;
        var ranks = SoftRank.Apply(scores, regularization);
        ranks.sum(1).sub(15.5).abs().max().item<double>().Should().BeLessThan(1e-12);
        ranks.min().item<double>().Should().BeGreaterThanOrEqualTo(1.0 / 30 - 1e-15);
        ranks.max().item<double>().Should().BeLessThanOrEqualTo(1 + 1e-15);

        // Soft ranks are monotone: a larger score never gets a larger (worse) rank, and equal scores get equal ranks.
        var s = scores.Doubles();
        var r = ranks.Doubles();
        for (int row = 0; row < 8; row++)
        {
            for (int a = 0; a < 30; a++)
            {
                for (int b = 0; b < 30; b++)
                {
                    int i = (row * 30) + a, j = (row * 30) + b;
                    if (s[i] == s[j])
                    {
                        r[i].Should().BeApproximately(r[j], 1e-12);
                    }
                    else if (s[i] > s[j])
                    {
                        r[i].Should().BeLessThanOrEqualTo(r[j] + 1e-12);
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(0.05, 1)]
    [InlineData(0.3, 2)]
    [InlineData(2.0, 3)]
    public void TheGradientMatchesCentralDifferencesInFloat64(double regularization, int seed)
    {
        // The soft ranks are piecewise linear in the scores; with continuous random scores a step of 1e-7 stays on one
        // piece, where central differences are exact up to rounding.
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var scores = randn(3, 9, dtype: ScalarType.Float64, generator: generator);
        var weights = randn(3, 9, dtype: ScalarType.Float64, generator: generator);
        var input = scores.clone().requires_grad_();
        (SoftRank.Apply(input, regularization) * weights).sum().backward();
        var analytic = input.grad!.Doubles();

        double Objective(Tensor s) => (SoftRank.Apply(s, regularization) * weights).sum().item<double>();
        const double h = 1e-7;
        var numeric = new double[27];
        for (int k = 0; k < 27; k++)
        {
            var up = scores.clone();
            var down = scores.clone();
            up.view(-1)[k] += h;
            down.view(-1)[k] -= h;
            numeric[k] = (Objective(up) - Objective(down)) / (2 * h);
        }

        analytic.Should().Equal(numeric, (a, e) => Math.Abs(a - e) <= 1e-6 * (1 + Math.Abs(e)));
        analytic.Should().Contain(v => Math.Abs(v) > 1e-3, "the regularization pools some neighbours");
    }

    [Fact]
    public void OneDimensionalScoresAndFloat32()
    {
        using var scope = NewDisposeScope();
        var scores = randn(17, generator: new Generator(9)).requires_grad_();
        var ranks = SoftRank.Apply(scores, 0.5);
        ranks.dtype.Should().Be(ScalarType.Float32);
        ranks.shape.Should().Equal(17);
        (ranks * ranks).sum().backward();
        scores.grad!.dtype.Should().Be(ScalarType.Float32);
        scores.grad!.abs().sum().item<float>().Should().BeGreaterThan(0);
    }

    [Fact]
    public void BadInputIsRefusedWithTheArgumentsName()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => SoftRank.Apply(tensor(new[] { 1f, float.NaN }), 1)).Should().Throw<ArgumentException>().WithParameterName("scores");
        FluentActions.Invoking(() => SoftRank.Apply(zeros(2, 0), 1)).Should().Throw<ArgumentException>().WithParameterName("scores");
        FluentActions.Invoking(() => SoftRank.Apply(zeros(2, 2, 2), 1)).Should().Throw<ArgumentException>().WithParameterName("scores");
        FluentActions.Invoking(() => SoftRank.Apply(zeros(3, dtype: ScalarType.Int64), 1)).Should().Throw<ArgumentException>().WithParameterName("scores");
        foreach (double bad in new[] { 0, -1, 1e-31, 1e31, double.NaN, double.PositiveInfinity })
        {
            FluentActions.Invoking(() => SoftRank.Apply(zeros(3), bad)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("regularization");
        }
    }
}

/// <summary><see cref="SoftRankTests"/> with the CPU kernels.</summary>
public sealed class SoftRankWithKernelsTests() : SoftRankTests(referencePath: false);

/// <summary><see cref="SoftRankTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class SoftRankOnReferencePathTests() : SoftRankTests(referencePath: true);
