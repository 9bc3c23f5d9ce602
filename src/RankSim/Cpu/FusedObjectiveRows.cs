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
/// and their neighbours, and no [M, M] intermediate is written besides the ranks and the gradient.
/// </summary>
internal static class FusedObjectiveRows
{
    /// <summary>Whether this primitive computes the objective of similarities [M, M]: float32 on the CPU.</summary>
    public static bool Takes(Tensor similarity) =>
        CpuKernels.Enabled && similarity.device_type == DeviceType.CPU && similarity.dtype == ScalarType.Float32
        && CpuKernels.FitsOneRow(similarity.size(1), sizeof(float));

    /// <summary>
    /// The feature ranks RF [M, M] and the per-anchor losses [M] for contiguous float32 similarities S [M, M] and label
    /// ranks RL [M, M] on the CPU.
    /// </summary>
    public static (Tensor FeatureRanks, Tensor PerAnchor) Forward(Tensor similarity, Tensor labelRanks)
    {
        int m = (int)similarity.size(0);
        var featureRanks = empty(m, m, dtype: ScalarType.Float32, device: similarity.device);
        var perAnchor = empty(m, dtype: ScalarType.Float32, device: similarity.device);
        RowBlocks.Run(m, m, (long)m * sizeof(float), (start, count) => ForwardRows(
            RowBlocks.Rows<float>(similarity, start, count),
            RowBlocks.Rows<float>(labelRanks, start, count),
            RowBlocks.Rows<float>(featureRanks, start, count),
            RowBlocks.Rows<float>(perAnchor, 0, m).Slice((int)start, (int)count)));
        return (featureRanks, perAnchor);
    }

    /// <summary>
    /// dL/dS [M, M] for the saved S, RF and RL and the contiguous float32 upstream gradient of the per-anchor losses
    /// (<paramref name="perAnchorUpstream"/> [M]) or of their sum or mean (one value): each anchor's rank gradient
    /// (RF - RL) (c_i / (<paramref name="divisor"/> / 2)), then its blackbox gradient with strength lambda (per row:
    /// lambda * std(s) / mean|g|, at most <paramref name="maxLambda"/>) and denominator offset <paramref name="epsilon"/>.
    /// </summary>
    public static Tensor Backward(
        Tensor similarity, Tensor featureRanks, Tensor labelRanks, Tensor upstream, bool perAnchorUpstream, float divisor,
        double lambda, bool perRow, double maxLambda, double epsilon)
    {
        int m = (int)similarity.size(0);
        var gradient = empty_like(similarity);
        RowBlocks.Run(m, m, (long)m * sizeof(float), (start, count) => BackwardRows(
            RowBlocks.Rows<float>(similarity, start, count),
            RowBlocks.Rows<float>(featureRanks, start, count),
            RowBlocks.Rows<float>(labelRanks, start, count),
            perAnchorUpstream ? RowBlocks.Rows<float>(upstream, start, count) : RowBlocks.Rows<float>(upstream, 0, 1),
            divisor,
            lambda,
            perRow,
            maxLambda,
            epsilon,
            m,
            RowBlocks.Rows<float>(gradient, start, count)));
        return gradient;
    }

    /// <summary>Ranks of rows of S into RF, and each row's mean squared rank difference to RL.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRows(ReadOnlySpan<float> similarity, ReadOnlySpan<float> labelRanks, Span<float> featureRanks, Span<float> losses)
    {
        int m = similarity.Length / losses.Length;
        using var ranker = new RowRanker.SingleRowRanker(m);
        for (int row = 0; row < losses.Length; row++)
        {
            var rf = featureRanks.Slice(row * m, m);
            ranker.Rank(similarity.Slice(row * m, m), rf, descending: true, RankTies.IndexOrder);
            losses[row] = (float)(SquaredDifferences(rf, labelRanks.Slice(row * m, m)) / m);
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
    /// For rows of S: dL/dRF = (RF - RL) (c_i / (<paramref name="divisor"/> / 2)), with c_i from <paramref name="upstream"/> (one
    /// value a row, or a single value for all), then the blackbox gradient.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRows(
        ReadOnlySpan<float> similarity, ReadOnlySpan<float> featureRanks, ReadOnlySpan<float> labelRanks, ReadOnlySpan<float> upstream,
        float divisor, double lambda, bool perRow, double maxLambda, double epsilon, int m, Span<float> gradient)
    {
        int rows = similarity.Length / m;
        using var ranker = new RowRanker.SingleRowRanker(m);
        var rankGradient = ArrayPool<float>.Shared.Rent(m);
        var perturbed = ArrayPool<float>.Shared.Rent(m);
        try
        {
            var g = rankGradient.AsSpan(0, m);
            for (int row = 0; row < rows; row++)
            {
                var rf = featureRanks.Slice(row * m, m);
                var rl = labelRanks.Slice(row * m, m);
                RankGradient(rf, rl, upstream[upstream.Length == 1 ? 0 : row] / (divisor / 2), g);

                var s = similarity.Slice(row * m, m);
                double strength = perRow ? RowStrength(s, g, lambda, maxLambda) : lambda;
                BlackboxGradientRows.GradientRow(s, g, rf, strength, epsilon, perturbed.AsSpan(0, m), gradient.Slice(row * m, m), ranker);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rankGradient);
            ArrayPool<float>.Shared.Return(perturbed);
        }
    }
}
