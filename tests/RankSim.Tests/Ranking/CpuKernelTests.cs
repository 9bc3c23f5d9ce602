namespace RankSim.Tests.Ranking;

/// <summary>
/// The CPU kernels (<see cref="RowRadixRanker"/>, <see cref="ScalarLabelRanker"/>) against the device-generic path
/// (libtorch's stable sort and a scatter of positions, which is what runs on CUDA), bit for bit.
/// </summary>
public class CpuKernelTests
{
    public static TheoryData<int, int, string> Shapes() => new()
    {
        { 1, 1, "float32" }, { 3, 2, "float64" }, { 5, 47, "float32" }, { 5, 48, "float64" }, { 5, 49, "float32" },
        { 57, 57, "float32" }, { 9, 96, "float32" }, { 9, 97, "float32" },
        { 40, 300, "float64" }, { 300, 300, "float32" }, { 64, 1100, "float32" }, { 33, 1100, "float64" },

        // At least 512 x 512 values: the rows are shared between threads.
        { 520, 520, "float32" }, { 530, 500, "float64" },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RadixRanksEqualTheSortPathForRandomValuesWithTies(int rows, int n, string dtype)
    {
        var type = dtype == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        var generator = new Generator((ulong)(rows * 1000 + n));

        // Continuous values, values with many exact ties (including -0 and +0), and values spanning many magnitudes.
        Tensor[] inputs =
        [
            randn(rows, n, generator: generator).to(type),
            (randint(-3, 4, [rows, n], generator: generator).to(type) * 0.5) * (randint(0, 2, [rows, n], generator: generator).to(type) * 2 - 1),
            (randn(rows, n, generator: generator) * 40).exp().to(type) * (randint(0, 2, [rows, n], generator: generator).to(type) * 2 - 1),
        ];
        foreach (var values in inputs)
        {
            foreach (bool descending in new[] { true, false })
            {
                foreach (var ties in new[] { RankTies.IndexOrder, RankTies.Average })
                {
                    using var kernel = RowRadixRanker.Rank(values, descending, ties);
                    using var reference = Ranks.BySort(values, ties, descending);
                    kernel.dtype.Should().Be(type);
                    kernel.Doubles().Should().Equal(reference.Doubles(), $"{dtype} [{rows}, {n}] descending={descending} ties={ties}");
                }
            }
        }
    }

    [Fact]
    public void NegativeAndPositiveZeroAreOneValue()
    {
        using var values = tensor(new[] { 0.0f, -0.0f, 1.0f, -0.0f, 0.0f }).unsqueeze(0);
        using var ranks = RowRadixRanker.Rank(values, descending: true, RankTies.IndexOrder);
        ranks.Floats().Should().Equal(0.4f, 0.6f, 0.2f, 0.8f, 1.0f);
    }

    [Fact]
    public void NonContiguousInputIsRankedByItsValues()
    {
        using var values = randn(40, 60, generator: new Generator(3));
        using var transposed = values.t();
        using var ranks = RowRadixRanker.Rank(transposed, descending: true, RankTies.IndexOrder);
        using var reference = Ranks.BySort(transposed.contiguous(), RankTies.IndexOrder, descending: true);
        ranks.Floats().Should().Equal(reference.Floats());
    }

    [Fact]
    public void NonFiniteValuesStillGiveOnePermutationPerRow()
    {
        // Only reachable with the finite check switched off: the order is unspecified, but nothing may crash.
        using var values = tensor(new[] { float.NaN, 1f, float.PositiveInfinity, float.NegativeInfinity, -float.NaN, 2f }).unsqueeze(0);
        using var ranks = RowRadixRanker.Rank(values, descending: true, RankTies.IndexOrder);
        ranks.Floats().Order().Should().Equal(Enumerable.Range(1, 6).Select(k => k / 6f));
    }

    public static TheoryData<int, string> LabelCases() => new()
    {
        { 1, "float32" }, { 2, "float64" }, { 47, "float32" }, { 300, "float64" }, { 700, "float32" },
    };

    [Theory]
    [MemberData(nameof(LabelCases))]
    public void ScalarLabelRanksEqualRankingTheDistanceMatrix(int m, string dtype)
    {
        var type = dtype == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        var generator = new Generator((ulong)m);

        // Continuous labels; integer labels with repeats (distance 0 ties, and equal distances on both sides); distinct
        // integer labels (ties of exactly two, one each side); labels whose differences round to equal values.
        Tensor[] inputs =
        [
            randn(m, 1, generator: generator).to(type),
            randint(0, 12, [m, 1], generator: generator).to(type),
            randperm(m, generator: generator).to(type).unsqueeze(1),
            (randint(0, 50, [m, 1], generator: generator).to(type) * 0.1) + 1e7,
        ];
        foreach (var labels in inputs)
        {
            foreach (var ties in new[] { RankTies.IndexOrder, RankTies.Average })
            {
                ScalarLabelRanker.Supports(labels).Should().BeTrue();
                using var kernel = ScalarLabelRanker.Rank(labels, ties);
                using var reference = Ranks.BySort(LabelSimilarity.Distances(labels), ties, descending: false);
                kernel.dtype.Should().Be(type);
                kernel.Doubles().Should().Equal(reference.Doubles(), $"{dtype} M={m} ties={ties}");
            }
        }
    }

    [Fact]
    public void NonFiniteOrMultiDimensionalLabelsTakeTheGenericPath()
    {
        ScalarLabelRanker.Supports(tensor(new[] { 1.0, double.NaN, 3.0 }).unsqueeze(1)).Should().BeFalse();
        ScalarLabelRanker.Supports(randn(4, 2)).Should().BeFalse();
        ScalarLabelRanker.Supports(randn(4, 1).to(ScalarType.Float16)).Should().BeFalse();
    }

    [Fact]
    public void LabelDistancesThatOverflowAreRankedLikeTheDistanceMatrix()
    {
        using var labels = tensor(new[] { 3e38f, -3e38f, 0f, 3e38f, 1f, -3e38f }).unsqueeze(1);
        using var kernel = LabelSimilarity.Ranks(labels, RankTies.IndexOrder);
        using var reference = Ranks.BySort(LabelSimilarity.Distances(labels), RankTies.IndexOrder, descending: false);
        kernel.Floats().Should().Equal(reference.Floats());
    }
}
