namespace RankSim.Tests.Ranking;

public abstract class RanksTests(bool referencePath) : BothPaths(referencePath)
{
    [Fact]
    public void DescendingNormalizedRanksMatchTheWorkedExample()
    {
        using var values = tensor(new[] { 0.1f, 0.9f, 0.5f, 0.3f }).unsqueeze(0);
        using var ranks = Ranks.Rows(values, descending: true, RankTies.IndexOrder);
        ranks.Floats().Should().Equal(1.0f, 0.25f, 0.5f, 0.75f);
    }

    [Fact]
    public void RanksAreComputedPerRow()
    {
        using var values = tensor(new[] { 3.0, 1.0, 2.0, -1.0, 5.0, 0.0 }).reshape(2, 3);
        using var ranks = Ranks.Rows(values, descending: true, RankTies.IndexOrder);
        ranks.Doubles().Should().Equal(1.0 / 3, 1.0, 2.0 / 3, 1.0, 1.0 / 3, 2.0 / 3);
    }

    [Fact]
    public void IndexOrderGivesTiedValuesConsecutiveRanksInColumnOrder()
    {
        using var values = tensor(new[] { 2.0, 5.0, 2.0, 2.0, 7.0 }).unsqueeze(0);
        using var ranks = Ranks.Rows(values, descending: true, RankTies.IndexOrder);
        ranks.Doubles().Should().Equal(3.0 / 5, 2.0 / 5, 4.0 / 5, 5.0 / 5, 1.0 / 5);
    }

    [Fact]
    public void AverageGivesTiedValuesTheirMeanRank()
    {
        // Sorted descending: 7 (rank 1), 5 (rank 2), 2, 2, 2 (ranks 3, 4, 5 -> 4); 1 (rank 6).
        using var values = tensor(new[] { 2.0, 5.0, 2.0, 1.0, 2.0, 7.0 }).unsqueeze(0);
        using var ranks = Ranks.Rows(values, descending: true, RankTies.Average);
        ranks.Doubles().Should().Equal(4.0 / 6, 2.0 / 6, 4.0 / 6, 6.0 / 6, 4.0 / 6, 1.0 / 6);
    }

    [Fact]
    public void AverageWithoutTiesEqualsIndexOrder()
    {
        using var values = randn(5, 9, dtype: ScalarType.Float64);
        using var average = Ranks.Rows(values, descending: true, RankTies.Average);
        using var indexOrder = Ranks.Rows(values, descending: true, RankTies.IndexOrder);
        average.Doubles().Should().Equal(indexOrder.Doubles());
    }

    [Fact]
    public void AverageHandlesRowsThatAreOneRun()
    {
        using var values = full(2, 4, 3.0, dtype: ScalarType.Float64);
        using var ranks = Ranks.Rows(values, descending: true, RankTies.Average);
        ranks.Doubles().Should().AllSatisfy(r => r.Should().Be(2.5 / 4));
    }
}

/// <summary><see cref="RanksTests"/> with the CPU kernels.</summary>
public sealed class RanksWithKernelsTests() : RanksTests(referencePath: false);

/// <summary><see cref="RanksTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class RanksOnReferencePathTests() : RanksTests(referencePath: true);
