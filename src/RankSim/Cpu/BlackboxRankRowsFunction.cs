using System.Buffers;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// <see cref="BlackboxRank.BlackboxRankFunction"/> on the CPU: the same ranks and gradient, with the rows ranked by
/// <see cref="RowRanker"/> and, for float32, the whole gradient of a row (perturb, rank, difference) computed in one
/// pass by <see cref="GradientRow"/>. Saves what the tensor function saves.
/// </summary>
internal sealed class BlackboxRankRowsFunction : autograd.SingleTensorFunction<BlackboxRankRowsFunction>
{
    public override string Name => nameof(BlackboxRankRowsFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) =>
        BlackboxRank.Forward(ctx, vars, RowBlocks.Contiguous, rows => RowRanker.Rank(rows, descending: true, RankTies.IndexOrder));

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        BlackboxRank.Backward(ctx, grad_output, Name, (scores, upstream, ranks, lambda) =>
        {
            var g = RowBlocks.Contiguous(upstream);
            return ranks.dtype == ScalarType.Float32 ? Gradient(scores, g, ranks, lambda) : GradientFloat64(scores, g, ranks, lambda);
        });

    /// <summary>
    /// The blackbox gradient of one float32 row in one pass: s' = s + lambda * g into <paramref name="perturbed"/>, its
    /// ranks into <paramref name="gradient"/>, then (r' - r) / (lambda + 1e-8) in place; NaN throughout when g is not all
    /// finite. The same arithmetic, in the same float32 operations, as <see cref="BlackboxRank.Gradient"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GradientRow(
        ReadOnlySpan<float> scores, ReadOnlySpan<float> upstream, ReadOnlySpan<float> ranks, double lambda,
        Span<float> perturbed, Span<float> gradient, RowRanker.SingleRowRanker ranker)
    {
        float strength = (float)lambda;
        float denominator = (float)(lambda + BlackboxRank.GradientEpsilon);
        bool finite = true;
        for (int j = 0; j < scores.Length; j++)
        {
            finite &= float.IsFinite(upstream[j]);
            perturbed[j] = scores[j] + (strength * upstream[j]);
        }

        if (!finite)
        {
            gradient.Fill(float.NaN);
            return;
        }

        ranker.Rank(perturbed, gradient, descending: true, RankTies.IndexOrder);
        for (int j = 0; j < gradient.Length; j++)
        {
            gradient[j] = (gradient[j] - ranks[j]) / denominator;
        }
    }

    /// <summary>Float32 rows [R, N]: <see cref="GradientRow"/> for every row, rows shared out by <see cref="RowBlocks"/>.</summary>
    private static Tensor Gradient(Tensor scores, Tensor upstream, Tensor ranks, double lambda)
    {
        int n = (int)ranks.shape[1];
        var output = empty_like(ranks);
        RowBlocks.Run(ranks.shape[0], n, (long)n * sizeof(float), (start, count) =>
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
                    GradientRow(sRows.Slice(offset, n), gRows.Slice(offset, n), rRows.Slice(offset, n), lambda, perturbed.AsSpan(0, n), outRows.Slice(offset, n), ranker);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(perturbed);
            }
        });
        return output;
    }

    /// <summary>Float64 rows: the tensor formula of <see cref="BlackboxRank.Gradient"/> with the ranks from <see cref="RowRanker"/>.</summary>
    private static Tensor GradientFloat64(Tensor scores, Tensor upstream, Tensor ranks, double lambda)
    {
        using var scope = NewDisposeScope();
        var perturbed = upstream.mul(lambda).add_(scores);
        var gradient = RowRanker.Rank(perturbed, descending: true, RankTies.IndexOrder).sub_(ranks).div_(lambda + BlackboxRank.GradientEpsilon);
        var nonFiniteRows = upstream.isfinite().all(-1, keepdim: true).logical_not_();
        return gradient.masked_fill_(nonFiniteRows, double.NaN).MoveToOuterDisposeScope();
    }
}
