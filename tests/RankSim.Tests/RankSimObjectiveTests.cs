using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Tests;

/// <summary>
/// The fused CPU objective (<see cref="RankSimObjective"/>) and the CPU blackbox gradient against the tensor-operation
/// formulas that run on other devices.
/// </summary>
public class RankSimObjectiveTests
{
    [Theory]
    [InlineData(Reduction.Sum, 2.0, 7)]
    [InlineData(Reduction.Mean, 2.0, 40)]
    [InlineData(Reduction.None, 0.5, 300)]
    [InlineData(Reduction.Sum, 100.0, 300)]
    [InlineData(Reduction.Mean, 2.0, 600)]
    public void FusedObjectiveEqualsBlackboxRankFollowedByTheSquaredDifferences(Reduction reduction, double lambda, int m)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)m);
        var similarity = randn(m, m, generator: generator);
        var labelRanks = Ranks.Ascending(rand(m, m, generator: generator), RankTies.IndexOrder);
        var upstream = reduction == Reduction.None ? rand(m, generator: generator) : tensor(1.7f);

        var fusedInput = similarity.clone().requires_grad_();
        var fused = RankSimObjective.Apply(fusedInput, labelRanks, lambda, reduction);
        fused.backward([upstream]);

        var referenceInput = similarity.clone().requires_grad_();
        var reference = RankSimLoss.Objective(referenceInput, labelRanks, lambda, reduction);
        reference.backward([upstream]);

        fused.shape.Should().Equal(reference.shape);
        fused.Doubles().Zip(reference.Doubles(), (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-6);
        fusedInput.grad!.Doubles().Zip(referenceInput.grad!.Doubles(), (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-6);
        fusedInput.grad!.Doubles().Should().Contain(v => v != 0, "the upstream gradient moves some ranks");
    }

    [Fact]
    public void CpuBlackboxGradientEqualsTheTensorFormula()
    {
        using var scope = NewDisposeScope();
        var scores = randn(50, 70, generator: new Generator(4));
        var upstream = randn(50, 70, generator: new Generator(5)) * 0.05;
        var ranks = BlackboxRank.RanksOf(scores);
        var cpu = BlackboxRank.Gradient(scores, upstream, ranks, 2.0);
        var formula = BlackboxRank.RanksOf(scores + (2.0 * upstream)).sub(ranks).div(2.0 + BlackboxRank.GradientEpsilon);
        cpu.Floats().Should().Equal(formula.Floats());
        cpu.Floats().Should().Contain(v => v != 0);
    }
}
