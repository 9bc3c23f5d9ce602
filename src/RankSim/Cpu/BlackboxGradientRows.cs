using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// The blackbox-differentiation gradient of row-wise descending ranks on the CPU: for rows s [R, N], their upstream
/// gradient g and their ranks r, dL/ds = -(r - rk(s + lambda g)) / (lambda + epsilon), NaN throughout a row whose g is
/// not all finite, with rk ranked by <see cref="RowRanker"/> (index-order ties). Float32 rows are done in one pass per
/// row (<see cref="GradientRow"/>: perturb, rank, difference), float64 rows by tensor operations around the ranker.
/// </summary>
internal static class BlackboxGradientRows
{
    /// <summary>
    /// Whether the rows of scores [N] or [R, N] are ranked by <see cref="RowRanker"/> and differentiated by this primitive:
    /// on the CPU, a row within one block (any floating dtype; the rows are made float32 or float64 first).
    /// </summary>
    public static bool Takes(Tensor scores) =>
        CpuKernels.Enabled && scores.device_type == DeviceType.CPU && CpuKernels.FitsOneRow(scores.size(-1), sizeof(double));

    /// <summary>The gradient [R, N] for contiguous rows s, g and r [R, N] of one dtype (float32 or float64).</summary>
    public static Tensor Compute(Tensor scores, Tensor upstream, Tensor ranks, double lambda, double epsilon) =>
        ranks.dtype == ScalarType.Float32 ? Gradient(scores, upstream, ranks, lambda, epsilon) : GradientFloat64(scores, upstream, ranks, lambda, epsilon);

    /// <summary>
    /// The blackbox gradient of one float32 row in one pass: s' = s + lambda * g into <paramref name="perturbed"/>, its
    /// ranks into <paramref name="gradient"/>, then (r' - r) / (lambda + epsilon) in place; NaN throughout when g is not all
    /// finite. lambda * g is rounded to float32, then + s; the denominator lambda + epsilon is rounded to float32.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GradientRow(
        ReadOnlySpan<float> scores, ReadOnlySpan<float> upstream, ReadOnlySpan<float> ranks, double lambda, double epsilon,
        Span<float> perturbed, Span<float> gradient, RowRanker.SingleRowRanker ranker)
    {
        float strength = (float)lambda;
        float denominator = (float)(lambda + epsilon);
        if (!Perturb(scores, upstream, strength, perturbed))
        {
            gradient.Fill(float.NaN);
            return;
        }

        ranker.Rank(perturbed, gradient, descending: true, RankTies.IndexOrder);
        var denominators = Vector256.Create(denominator);
        int k = 0;
        for (; k <= gradient.Length - Vector256<float>.Count; k += Vector256<float>.Count)
        {
            ((Vector256.Create(gradient[k..]) - Vector256.Create(ranks[k..])) / denominators).CopyTo(gradient[k..]);
        }

        for (; k < gradient.Length; k++)
        {
            gradient[k] = (gradient[k] - ranks[k]) / denominator;
        }
    }

    /// <summary>
    /// s'_j = s_j + (strength * g_j) in float32 into <paramref name="perturbed"/>; whether every g_j is finite (a value is
    /// not finite exactly when its magnitude bits are at least the exponent mask's).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Perturb(ReadOnlySpan<float> scores, ReadOnlySpan<float> upstream, float strength, Span<float> perturbed)
    {
        var strengths = Vector256.Create(strength);
        var magnitude = Vector256.Create(int.MaxValue);
        var largest = Vector256<int>.Zero;
        int j = 0;
        for (; j <= scores.Length - Vector256<float>.Count; j += Vector256<float>.Count)
        {
            var g = Vector256.Create(upstream[j..]);
            largest = Vector256.Max(largest, g.AsInt32() & magnitude);
            (Vector256.Create(scores[j..]) + (strengths * g)).CopyTo(perturbed[j..]);
        }

        bool finite = !Vector256.GreaterThanOrEqualAny(largest, Vector256.Create(ExponentMask));
        for (; j < scores.Length; j++)
        {
            finite &= float.IsFinite(upstream[j]);
            perturbed[j] = scores[j] + (strength * upstream[j]);
        }

        return finite;
    }

    /// <summary>The exponent bits of a float32: set in every non-finite value, not all set in any finite one.</summary>
    private const int ExponentMask = 0x7F80_0000;

    /// <summary>Float32 rows [R, N]: <see cref="GradientRow"/> for every row, rows shared out by <see cref="RowBlocks"/>.</summary>
    private static Tensor Gradient(Tensor scores, Tensor upstream, Tensor ranks, double lambda, double epsilon)
    {
        int n = (int)ranks.size(1);
        var output = empty_like(ranks);
        RowBlocks.Run(ranks.size(0), n, (long)n * sizeof(float), (start, count) =>
        {
            using var ranker = new RowRanker.SingleRowRanker(n);
            var perturbed = ArrayPool<float>.Shared.Rent(n);
            try
            {
                var sRows = RowBlocks.Rows<float>(scores, start, count);
                var gRows = RowBlocks.Rows<float>(upstream, start, count);
                var rRows = RowBlocks.Rows<float>(ranks, start, count);
                var outRows = RowBlocks.Rows<float>(output, start, count);
                for (int offset = 0; offset < sRows.Length; offset += n)
                {
                    GradientRow(sRows.Slice(offset, n), gRows.Slice(offset, n), rRows.Slice(offset, n), lambda, epsilon, perturbed.AsSpan(0, n), outRows.Slice(offset, n), ranker);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(perturbed);
            }
        });
        return output;
    }

    /// <summary>Float64 rows: the gradient by tensor operations, with the perturbed rows ranked by <see cref="RowRanker"/>.</summary>
    private static Tensor GradientFloat64(Tensor scores, Tensor upstream, Tensor ranks, double lambda, double epsilon)
    {
        using var scope = NewDisposeScope();
        var perturbed = upstream.mul(lambda).add_(scores);
        var gradient = RowRanker.Rank(perturbed, descending: true, RankTies.IndexOrder).sub_(ranks).div_(lambda + epsilon);
        var nonFiniteRows = upstream.isfinite().all(-1, keepdim: true).logical_not_();
        return gradient.masked_fill_(nonFiniteRows, double.NaN).MoveToOuterDisposeScope();
    }
}
