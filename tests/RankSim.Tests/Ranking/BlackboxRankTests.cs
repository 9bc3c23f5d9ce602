using System.Text.Json;
using RankSim.Tests.Fixtures;

namespace RankSim.Tests.Ranking;

public abstract class BlackboxRankTests(bool referencePath) : BothPaths(referencePath)
{
    public static TheoryData<string> RankerCases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Golden.Cases("ranksim_official.json", "ranker"))
        {
            data.Add(c.Name());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RankerCases))]
    public void RanksAndGradientMatchTheReferenceImplementation(string name)
    {
        JsonElement c = Golden.Cases("ranksim_official.json", "ranker").Single(x => x.Name() == name);
        using var scope = NewDisposeScope();
        var scores = tensor(c.Floats("scores")).reshape(c.Shape("shape")).requires_grad_();
        var gradOutput = tensor(c.Floats("grad_output")).reshape(c.Shape("shape"));

        var ranks = BlackboxRank.Apply(scores, c.GetProperty("interpolation_lambda").GetDouble());
        ranks.backward([gradOutput]);

        ranks.Floats().Should().Equal(c.Floats("ranks"), (a, e) => Math.Abs(a - e) <= 1e-5);
        scores.grad!.Floats().Should().Equal(c.Floats("scores_grad"), (a, e) => Math.Abs(a - e) <= 1e-5);
    }

    [Fact]
    public void GradientSwapsTheRanksThatThePerturbationSwaps()
    {
        // s = [0.1, 0.9, 0.5, 0.3] has ranks r = [1, 1/4, 1/2, 3/4]. With lambda = 1 and g = [0.5, 0, 0, 0],
        // s' = [0.6, 0.9, 0.5, 0.3] has ranks r' = [1/2, 1/4, 3/4, 1], so dL/ds = -(r - r') / (1 + 1e-8).
        using var scope = NewDisposeScope();
        var scores = tensor(new[] { 0.1, 0.9, 0.5, 0.3 }).requires_grad_();
        var ranks = BlackboxRank.Apply(scores, 1.0);
        ranks.backward([tensor(new[] { 0.5, 0.0, 0.0, 0.0 })]);

        double scale = 1.0 / (1.0 + 1e-8);
        scores.grad!.Doubles().Should().Equal(
            new[] { -0.5 * scale, 0.0, 0.25 * scale, 0.25 * scale }, (a, e) => Math.Abs(a - e) <= 1e-15);
    }

    [Fact]
    public void GradientIsExactlyZeroWhenThePerturbationSwapsNoPair()
    {
        using var scope = NewDisposeScope();
        var scores = tensor(new[] { 0.1, 0.9, 0.5, 0.3 }).requires_grad_();
        var ranks = BlackboxRank.Apply(scores, 2.0);

        // lambda * g moves every score by at most 0.08, less than half of the smallest gap (0.2).
        ranks.backward([tensor(new[] { 0.04, -0.03, 0.02, 0.01 })]);

        scores.grad!.Doubles().Should().AllSatisfy(g => g.Should().Be(0.0));
    }

    [Fact]
    public void OneDimensionalScoresGiveOneDimensionalRanks()
    {
        using var scope = NewDisposeScope();
        var ranks = BlackboxRank.Apply(tensor(new[] { 3f, 1f, 2f }), 2.0);
        ranks.shape.Should().Equal(3);
        ranks.Floats().Should().Equal(1f / 3, 1f, 2f / 3);
    }

    [Theory]
    [InlineData(ScalarType.Float16, ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16, ScalarType.Float32)]
    [InlineData(ScalarType.Float32, ScalarType.Float32)]
    [InlineData(ScalarType.Float64, ScalarType.Float64)]
    public void RanksComeInAnExactDtypeAndTheGradientInTheScoresDtype(ScalarType dtype, ScalarType ranksDtype)
    {
        using var scope = NewDisposeScope();
        var scores = tensor(new[] { 0.25, 1.0, -0.5, 0.0 }).to(dtype).requires_grad_();
        var ranks = BlackboxRank.Apply(scores, 1.0);
        ranks.backward([tensor(new[] { 2.0, 0.0, 0.0, 0.0 }).to(ranks.dtype)]);

        ranks.dtype.Should().Be(ranksDtype);
        ranks.Floats().Should().Equal(0.5f, 0.25f, 1f, 0.75f);
        scores.grad!.dtype.Should().Be(dtype);

        // s' = [2.25, 1, -0.5, 0]: r' = [1/4, 1/2, 1, 3/4], so dL/ds = (r' - r) / (1 + 1e-8).
        scores.grad!.Floats().Should().Equal(new[] { -0.25f, 0.25f, 0f, 0f }, (a, e) => Math.Abs(a - e) <= 1e-3);
    }

    [Fact]
    public void InvalidInputsAreRejectedBeforeAutograd()
    {
        using var scope = NewDisposeScope();
        var good = rand(3, 4);

        FluentActions.Invoking(() => BlackboxRank.Apply(null!, 1.0)).Should().Throw<ArgumentNullException>().WithParameterName("scores");
        FluentActions.Invoking(() => BlackboxRank.Apply(good, 0.0)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("interpolationLambda");
        FluentActions.Invoking(() => BlackboxRank.Apply(good, double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => BlackboxRank.Apply(good, double.PositiveInfinity)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => BlackboxRank.Apply(rand(2, 3, 4), 1.0)).Should().Throw<ArgumentException>()
            .WithParameterName("scores").WithMessage("*1-D*2-D*");
        FluentActions.Invoking(() => BlackboxRank.Apply(tensor(1.0), 1.0)).Should().Throw<ArgumentException>().WithParameterName("scores");
        FluentActions.Invoking(() => BlackboxRank.Apply(zeros(2, 0), 1.0)).Should().Throw<ArgumentException>().WithMessage("*empty*");
        FluentActions.Invoking(() => BlackboxRank.Apply(ones(4, dtype: ScalarType.Int64), 1.0)).Should().Throw<ArgumentException>()
            .WithMessage("*floating-point*");
        FluentActions.Invoking(() => BlackboxRank.Apply(tensor(new[] { 1.0, double.NaN }), 1.0)).Should().Throw<ArgumentException>()
            .WithMessage("*NaN or infinite*");
    }
}

/// <summary><see cref="BlackboxRankTests"/> with the CPU kernels.</summary>
public sealed class BlackboxRankWithKernelsTests() : BlackboxRankTests(referencePath: false);

/// <summary><see cref="BlackboxRankTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class BlackboxRankOnReferencePathTests() : BlackboxRankTests(referencePath: true);
