namespace RankSim.Tests.Cpu;

/// <summary>
/// The CPU kernels (<see cref="RowRanker"/>, <see cref="ScalarLabelRanker"/>, <see cref="GramRows"/>) against the device-generic path
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
                    using var kernel = RowRanker.Rank(values, descending, ties);
                    using var reference = descending ? Ranks.Descending(values, ties) : Ranks.Ascending(values, ties);
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
        using var ranks = RowRanker.Rank(values, descending: true, RankTies.IndexOrder);
        ranks.Floats().Should().Equal(0.4f, 0.6f, 0.2f, 0.8f, 1.0f);
    }

    [Fact]
    public void NonContiguousInputIsRankedByItsValues()
    {
        using var values = randn(40, 60, generator: new Generator(3));
        using var transposed = values.t();
        using var ranks = RowRanker.Rank(transposed, descending: true, RankTies.IndexOrder);
        using var reference = Ranks.Descending(transposed.contiguous(), RankTies.IndexOrder);
        ranks.Floats().Should().Equal(reference.Floats());
    }

    /// <summary>
    /// Rows with NaN (of every sign and payload) and infinities, reachable with the finite check switched off: the kernel
    /// orders them as libtorch's sort does (every NaN one value above +infinity), in both dtypes, both directions and both
    /// tie policies, for short rows (counting, insertion) and long ones (radix).
    /// </summary>
    [Theory]
    [InlineData(6)]
    [InlineData(57)]
    [InlineData(300)]
    public void NonFiniteValuesAreOrderedAsLibtorchsSortOrdersThem(int n)
    {
        float[] specials =
        [
            float.NaN, -float.NaN, BitConverter.UInt32BitsToSingle(0x7F80_0001u), BitConverter.UInt32BitsToSingle(0xFFFF_FFFFu),
            float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1f, -1f, float.MaxValue, float.MinValue,
        ];
        var random = new Random(n);
        var rows = new float[4 * n];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = random.Next(3) == 0 ? (float)random.NextDouble() : specials[random.Next(specials.Length)];
        }

        rows[0] = -float.NaN;
        rows[1] = float.NaN;
        foreach (var type in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            using var values = tensor(rows).reshape(4, n).to(type);
            if (type == ScalarType.Float64)
            {
                // float32 -> float64 keeps NaN signs; add a float64 NaN with a payload of its own.
                values[2, 0] = BitConverter.UInt64BitsToDouble(0xFFF0_0000_0000_0001ul);
            }

            foreach (bool descending in new[] { true, false })
            {
                foreach (var ties in new[] { RankTies.IndexOrder, RankTies.Average })
                {
                    using var kernel = RowRanker.Rank(values, descending, ties);
                    using var reference = descending ? Ranks.Descending(values, ties) : Ranks.Ascending(values, ties);
                    kernel.Doubles().Should().Equal(reference.Doubles(), $"{type} N={n} descending={descending} ties={ties}");
                }
            }
        }
    }

    [Fact]
    public void EveryNaNRanksFirstInDescendingOrderAsInLibtorch()
    {
        using var values = tensor(new[] { 1f, -float.NaN, float.PositiveInfinity, float.NaN, 2f }).unsqueeze(0);
        using var sorted = values.sort(dim: -1, descending: true, stable: true).Indices;
        sorted.data<long>().ToArray().Should().Equal([1L, 3, 2, 4, 0], "libtorch's own order, which the kernel must match");
        using var ranks = RowRanker.Rank(values, descending: true, RankTies.IndexOrder);
        ranks.Floats().Should().Equal(1.0f, 0.2f, 0.6f, 0.4f, 0.8f);
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

            // Distinct labels whose distances to far labels round to equal values on one side of an anchor.
            cat([randperm((m + 1) / 2, generator: generator).to(type) + 1e7, (randperm(m / 2, generator: generator).to(type) * 3) + 3e7]).unsqueeze(1),
        ];
        foreach (var labels in inputs)
        {
            foreach (var ties in new[] { RankTies.IndexOrder, RankTies.Average })
            {
                ScalarLabelRanker.HasFiniteRange(labels).Should().BeTrue();
                using var kernel = ScalarLabelRanker.Rank(labels, ties);
                using var reference = DistanceMatrixRanks(labels, ties);
                kernel.dtype.Should().Be(type);
                kernel.Doubles().Should().Equal(reference.Doubles(), $"{dtype} M={m} ties={ties}");
            }
        }
    }

    [Fact]
    public void NonFiniteOrMultiDimensionalLabelsAreRankedAsTheDistanceMatrixRanks()
    {
        Tensor[] inputs =
        [
            tensor(new[] { 1.0, double.NaN, 3.0, -double.NaN, double.PositiveInfinity }).unsqueeze(1),
            randn(6, 2, generator: new Generator(1)),
            randn(5, 1, generator: new Generator(2)),
        ];
        foreach (var labels in inputs)
        {
            foreach (var ties in new[] { RankTies.IndexOrder, RankTies.Average })
            {
                using var dispatched = LabelSimilarity.DistanceRanks(labels, ties);
                using var reference = DistanceMatrixRanks(labels, ties);
                dispatched.Doubles().Should().Equal(reference.Doubles());
            }
        }
    }

    [Fact]
    public void LabelDistancesThatOverflowAreDeclinedByTheKernelAndRankedLikeTheDistanceMatrix()
    {
        using var labels = tensor(new[] { 3e38f, -3e38f, 0f, 3e38f, 1f, -3e38f }).unsqueeze(1);
        ScalarLabelRanker.HasFiniteRange(labels).Should().BeFalse();
        Dispatch.LabelRanks(labels).Should().BeSameAs(TensorBackend.Instance);
        using var dispatched = LabelSimilarity.DistanceRanks(labels, RankTies.IndexOrder);
        using var reference = DistanceMatrixRanks(labels, RankTies.IndexOrder);
        dispatched.Floats().Should().Equal(reference.Floats());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void IntegerLabelsRankedWithoutScalingRankAsScaledOnes(int k)
    {
        // Integers up to +-2^53 (what validation lets through), with ties and neighbours one apart at the extremes.
        const long max = 1L << 53;
        var values = new[] { max, max - 1, -max, -max + 1, 0, 1, 1, -1, max, 7, -max, 2 };
        using var labels = tensor(values).to(ScalarType.Float64).reshape(-1, 1).repeat(1, k);
        labels[1, k - 1] = (double)(max - 2);
        foreach (var ties in new[] { RankTies.IndexOrder, RankTies.Average })
        {
            using var unscaled = Ranks.Ascending(LabelSimilarity.Distances(labels, integerLabels: true), ties);
            using var scaled = Ranks.Ascending(LabelSimilarity.Distances(labels), ties);
            unscaled.Doubles().Should().Equal(scaled.Doubles(), $"K={k} ties={ties}");
            using var dispatched = LabelSimilarity.DistanceRanks(labels, ties, integerLabels: true);
            dispatched.Doubles().Should().Equal(scaled.Doubles(), $"K={k} ties={ties}");
        }
    }

    /// <summary>The label ranks by the tensor formula alone (the distance matrix ranked by libtorch's sort): the reference.</summary>
    private static Tensor DistanceMatrixRanks(Tensor labels, RankTies ties)
    {
        using var path = CpuKernels.UseReferencePath();
        return TensorBackend.Instance.LabelRanks(labels, ties, integerLabels: false);
    }

    /// <summary>The in-place symmetric sum is g + g^T bit for bit, for sizes on and off the 32-wide tiles, on one and two threads.</summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(31, 1)]
    [InlineData(64, 2)]
    [InlineData(600, 2)]
    [InlineData(601, 1)]
    public void TheInPlaceSymmetricSumIsTheMatrixPlusItsTranspose(int m, int threads)
    {
        using var scope = NewDisposeScope();
        int previousThreads = get_num_threads();
        set_num_threads(threads);
        try
        {
            var g = randn(m, m, generator: new Generator((ulong)m));
            var expected = g + g.t();
            GramRows.AddTransposeInPlace(g).Should().BeSameAs(g);
            g.Doubles().Should().Equal(expected.Doubles());
        }
        finally
        {
            set_num_threads(previousThreads);
        }
    }
}
