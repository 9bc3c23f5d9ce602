using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// The RankSim objective for float32 similarities on the CPU, row by row in managed code. Forward: RF = rk(S) (descending,
/// index-order ties, normalized) and per anchor i the loss mean_j (RF_ij - RL_ij)^2. Backward: dL/dRF_ij =
/// (RF_ij - RL_ij) (c_i / (divisor / 2)) (c_i the upstream gradient of anchor i's loss) and, in the same pass over the row, the
/// blackbox gradient (<see cref="BlackboxGradientRows.GradientRow"/>). No libtorch operation runs between the rankings
/// and their neighbours. Memory: RF is kept as 16-bit rank positions (half of a float32 [M, M]), RL is read row by row
/// (<see cref="LabelRankRows"/>, computed from the labels where they allow it), and the only float32 [M, M] written is
/// the gradient.
/// </summary>
internal static class FusedObjectiveRows
{
    /// <summary>The largest M: RF's rank positions 0..M-1 are kept as 16-bit unsigned integers.</summary>
    public const int MaxRows = ushort.MaxValue + 1;

    /// <summary>Whether this primitive computes the objective of similarities [M, M]: float32 on the CPU, M at most <see cref="MaxRows"/>.</summary>
    public static bool Takes(Tensor similarity) =>
        CpuKernels.Enabled && similarity.device_type == DeviceType.CPU && similarity.dtype == ScalarType.Float32
        && similarity.size(0) <= MaxRows && CpuKernels.FitsOneRow(similarity.size(1), sizeof(float));

    /// <summary>
    /// The feature ranks RF [M, M] as rank positions (int16 holding the unsigned position p of rank (p + 1) / M) and the
    /// per-anchor losses [M] for contiguous float32 similarities S [M, M] on the CPU and the label ranks' rows.
    /// </summary>
    public static (Tensor FeaturePositions, Tensor PerAnchor) Forward(Tensor similarity, LabelRankRows labelRanks)
    {
        int m = (int)similarity.size(0);
        var featurePositions = empty(m, m, dtype: ScalarType.Int16, device: similarity.device);
        var perAnchor = empty(m, dtype: ScalarType.Float32, device: similarity.device);
        RowBlocks.Run(m, m, (long)m * sizeof(float), (start, count) =>
        {
            using var reader = labelRanks.Open();
            ForwardRows(
                RowBlocks.Rows<float>(similarity, start, count),
                reader,
                (int)start,
                RowBlocks.Rows<ushort>(featurePositions, start, count),
                RowBlocks.Rows<float>(perAnchor, 0, m).Slice((int)start, (int)count));
        });
        return (featurePositions, perAnchor);
    }

    /// <summary>
    /// dL/dS [M, M] for the saved S and RF positions, the label ranks' rows and the contiguous float32 upstream gradient of
    /// the per-anchor losses (<paramref name="perAnchorUpstream"/> [M]) or of their sum or mean (one value): each anchor's
    /// rank gradient (RF - RL) (c_i / (<paramref name="divisor"/> / 2)), then its blackbox gradient with strength lambda
    /// (per row: lambda * std(s) / mean|g|, at most <paramref name="maxLambda"/>) and denominator offset <paramref name="epsilon"/>.
    /// </summary>
    public static Tensor Backward(
        Tensor similarity, Tensor featurePositions, LabelRankRows labelRanks, Tensor upstream, bool perAnchorUpstream, float divisor,
        double lambda, bool perRow, double maxLambda, double epsilon)
    {
        int m = (int)similarity.size(0);
        var gradient = empty_like(similarity);
        RowBlocks.Run(m, m, (long)m * sizeof(float), (start, count) =>
        {
            using var reader = labelRanks.Open();
            BackwardRows(
                RowBlocks.Rows<float>(similarity, start, count),
                RowBlocks.Rows<ushort>(featurePositions, start, count),
                reader,
                (int)start,
                perAnchorUpstream ? RowBlocks.Rows<float>(upstream, start, count) : RowBlocks.Rows<float>(upstream, 0, 1),
                new(divisor, lambda, perRow, maxLambda, epsilon),
                m,
                RowBlocks.Rows<float>(gradient, start, count));
        });
        return gradient;
    }

    /// <summary>The settings of a backward pass.</summary>
    private readonly record struct Settings(float Divisor, double Lambda, bool PerRow, double MaxLambda, double Epsilon);

    /// <summary>Ranks of rows of S into RF positions, and each row's mean squared rank difference to RL.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRows(ReadOnlySpan<float> similarity, LabelRankReader labelRanks, int firstAnchor, Span<ushort> featurePositions, Span<float> losses)
    {
        int m = similarity.Length / losses.Length;
        using var ranker = new RowRanker.SingleRowRanker(m);
        var rankBuffer = ArrayPool<float>.Shared.Rent(m);
        try
        {
            var rf = rankBuffer.AsSpan(0, m);
            for (int row = 0; row < losses.Length; row++)
            {
                ranker.Rank(similarity.Slice(row * m, m), rf, descending: true, RankTies.IndexOrder);
                losses[row] = (float)(SquaredDifferences(rf, labelRanks.Row(firstAnchor + row)) / m);
                ToPositions(rf, featurePositions.Slice(row * m, m));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rankBuffer);
        }
    }

    /// <summary>
    /// The position p of each rank (p + 1) / M: rank * M is within float32 rounding of p + 1 (M at most 2^16, far below
    /// 2^24), so rounding recovers it exactly, and the rank table gives the rank back bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ToPositions(ReadOnlySpan<float> ranks, Span<ushort> positions)
    {
        float m = ranks.Length;
        for (int j = 0; j < ranks.Length; j++)
        {
            positions[j] = (ushort)((int)MathF.Round(ranks[j] * m) - 1);
        }
    }

    /// <summary>The ranks table[p] of positions p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FromPositions(ReadOnlySpan<ushort> positions, ReadOnlySpan<float> table, Span<float> ranks)
    {
        for (int j = 0; j < positions.Length; j++)
        {
            ranks[j] = table[positions[j]];
        }
    }

    /// <summary>sum_j (rf_j - rl_j)^2 in float64 (four lanes of partial sums, then their total).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SquaredDifferences(ReadOnlySpan<float> rf, ReadOnlySpan<float> rl)
    {
        var sums = Vector256<double>.Zero;
        int j = 0;
        for (; j <= rf.Length - Vector256<float>.Count; j += Vector256<float>.Count)
        {
            var (lower, upper) = Vector256.Widen(Vector256.Create(rf[j..]));
            var (rlLower, rlUpper) = Vector256.Widen(Vector256.Create(rl[j..]));
            lower -= rlLower;
            upper -= rlUpper;
            sums += (lower * lower) + (upper * upper);
        }

        double squares = Vector256.Sum(sums);
        for (; j < rf.Length; j++)
        {
            double difference = rf[j] - rl[j];
            squares += difference * difference;
        }

        return squares;
    }

    /// <summary>g_j = (rf_j - rl_j) * scale in float32, the operations in this order (as the tensor formula does them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RankGradient(ReadOnlySpan<float> rf, ReadOnlySpan<float> rl, float scale, Span<float> g)
    {
        var scales = Vector256.Create(scale);
        int j = 0;
        for (; j <= rf.Length - Vector256<float>.Count; j += Vector256<float>.Count)
        {
            ((Vector256.Create(rf[j..]) - Vector256.Create(rl[j..])) * scales).CopyTo(g[j..]);
        }

        for (; j < rf.Length; j++)
        {
            g[j] = (rf[j] - rl[j]) * scale;
        }
    }

    /// <summary>
    /// The per-row strength for one row, in float64: lambda * std(s) / mean|g| (population standard deviation), lambda
    /// where either is 0 or the ratio not finite, at most <paramref name="maxLambda"/>.
    /// </summary>
    private static double RowStrength(ReadOnlySpan<float> similarities, ReadOnlySpan<float> upstream, double lambda, double maxLambda)
    {
        int m = similarities.Length;
        double mean = 0, size = 0;
        for (int j = 0; j < m; j++)
        {
            mean += similarities[j];
            size += Math.Abs((double)upstream[j]);
        }

        mean /= m;
        size /= m;
        double squares = 0;
        for (int j = 0; j < m; j++)
        {
            double deviation = similarities[j] - mean;
            squares += deviation * deviation;
        }

        double factor = Math.Sqrt(squares / m) / size;
        bool usable = squares > 0 && size > 0 && double.IsFinite(factor);
        return Math.Min((usable ? factor : 1) * lambda, maxLambda);
    }

    /// <summary>
    /// For rows of S: dL/dRF = (RF - RL) (c_i / (divisor / 2)), with c_i from <paramref name="upstream"/> (one value a
    /// row, or a single value for all), then the blackbox gradient.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRows(
        ReadOnlySpan<float> similarity, ReadOnlySpan<ushort> featurePositions, LabelRankReader labelRanks, int firstAnchor,
        ReadOnlySpan<float> upstream, Settings settings, int m, Span<float> gradient)
    {
        int rows = similarity.Length / m;
        using var ranker = new RowRanker.SingleRowRanker(m);
        var buffer = ArrayPool<float>.Shared.Rent(4 * m);
        try
        {
            var g = buffer.AsSpan(0, m);
            var perturbed = buffer.AsSpan(m, m);
            var rf = buffer.AsSpan(2 * m, m);
            var table = buffer.AsSpan(3 * m, m);
            RankValues.Fill(table);
            for (int row = 0; row < rows; row++)
            {
                FromPositions(featurePositions.Slice(row * m, m), table, rf);
                RankGradient(rf, labelRanks.Row(firstAnchor + row), upstream[upstream.Length == 1 ? 0 : row] / (settings.Divisor / 2), g);

                var s = similarity.Slice(row * m, m);
                double strength = settings.PerRow ? RowStrength(s, g, settings.Lambda, settings.MaxLambda) : settings.Lambda;
                BlackboxGradientRows.GradientRow(s, g, rf, strength, settings.Epsilon, perturbed, gradient.Slice(row * m, m), ranker);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }
}
