using System.Runtime.CompilerServices;
using System.Buffers;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Row-wise normalised descending ranks with the blackbox-differentiation gradient of Vlastelica et al.
/// ("Differentiation of Blackbox Combinatorial Solvers", ICLR 2020), as RankSim uses it (Gong et al., ICML 2022, Eq. 3).
/// </summary>
/// <remarks>
/// Forward: r = rk(s). Exactly equal scores get distinct ranks in index order (the earlier column ranks first), on every device.
/// Backward, for the upstream gradient g: s' = s + lambda * g, r' = rk(s'), and dL/ds = -(r - r') / (lambda + 1e-8).
/// </remarks>
public static class BlackboxRank
{
    internal const double GradientEpsilon = 1e-8;

    /// <summary>
    /// Normalised descending ranks of <paramref name="scores"/> (1-D [N] or 2-D [R, N], ranked along the last dimension),
    /// differentiable through blackbox interpolation.
    /// </summary>
    /// <param name="scores">Floating-point scores, [N] or [R, N] with N &gt;= 1, on any device.</param>
    /// <param name="interpolationLambda">Interpolation strength lambda in (0, 1e30] of the backward pass (RankSim's default is 2).</param>
    /// <returns>
    /// Ranks in {1/N, ..., 1}, the shape of <paramref name="scores"/>; float64 for float64 scores, float32 otherwise
    /// (float16 and bfloat16 cannot hold k/N exactly). The gradient reaches <paramref name="scores"/> in its own dtype.
    /// </returns>
    /// <exception cref="ArgumentException">A null, empty, non-floating, non-finite or wrongly shaped tensor, or lambda not a finite positive number.</exception>
    public static Tensor Apply(Tensor scores, double interpolationLambda)
    {
        ArgumentNullException.ThrowIfNull(scores);
        InputValidation.RequireLambda(interpolationLambda, nameof(interpolationLambda));
        if (scores.dim() is < 1 or > 2)
        {
            throw new ArgumentException($"scores must be 1-D [N] or 2-D [R, N]; got shape [{string.Join(", ", scores.shape)}].", nameof(scores));
        }

        InputValidation.RequireFloatingPoint(scores, nameof(scores));
        if (scores.numel() == 0)
        {
            throw new ArgumentException($"scores must not be empty; got shape [{string.Join(", ", scores.shape)}].", nameof(scores));
        }

        InputValidation.RequireData(scores, nameof(scores));
        InputValidation.RequireFinite(scores, nameof(scores));
        return ApplyUnchecked(scores, interpolationLambda);
    }

    /// <summary><see cref="Apply"/> without validation, for callers that validated already.</summary>
    internal static Tensor ApplyUnchecked(Tensor scores, double interpolationLambda) =>
        BlackboxRankFunction.apply(scores, interpolationLambda);

    /// <summary>The dtype ranks are computed in: float64 stays, everything else becomes float32.</summary>
    internal static ScalarType WorkingDtype(ScalarType dtype) => dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    /// <summary>Ranks of a 1-D or 2-D tensor along its last dimension, in the working dtype.</summary>
    internal static Tensor RanksOf(Tensor scores)
    {
        using var scope = NewDisposeScope();
        var rows = scores.dim() == 1 ? scores.unsqueeze(0) : scores;
        var ranks = Ranks.Descending(rows.to(WorkingDtype(scores.dtype)), RankTies.IndexOrder);
        return ranks.reshape(scores.shape).MoveToOuterDisposeScope();
    }

    /// <summary>The custom autograd function behind <see cref="Apply"/>. Inputs are validated before apply.</summary>
    internal sealed class BlackboxRankFunction : autograd.SingleTensorFunction<BlackboxRankFunction>
    {
        private const string LambdaKey = "lambda";

        public override string Name => nameof(BlackboxRankFunction);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var scores = (Tensor)vars[0];
            double lambda = (double)vars[1];
            var ranks = RanksOf(scores);
            ctx.save_for_backward([scores, ranks]);
            ctx.save_data(LambdaKey, lambda);
            return ranks;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var scores = saved[0];
            var ranks = saved[1];
            double lambda = (double)ctx.get_data(LambdaKey);

            var gradient = Gradient(scores.to(ranks.dtype), grad_output.to(ranks.dtype), ranks, lambda).to(scores.dtype);
            return [gradient.MoveToOuterDisposeScope(), null!];
        }
    }

    /// <summary>
    /// dL/ds = -(rk(s) - rk(s + lambda * g)) / (lambda + 1e-8) for scores s, upstream gradient g and the forward ranks
    /// rk(s), all of the ranks' dtype and shape. CPU float32 rows go through <see cref="GradientRow"/>; elsewhere tensor
    /// operations compute the same formula.
    /// </summary>
    internal static Tensor Gradient(Tensor scores, Tensor upstream, Tensor ranks, double lambda)
    {
        if (ranks.device_type == DeviceType.CPU && ranks.dtype == ScalarType.Float32)
        {
            return GradientOnCpu(scores, upstream, ranks, lambda);
        }

        // add(alpha) must convert lambda to the ranks' dtype exactly; MaxLambda keeps that possible for float32.
        using var scope = NewDisposeScope();
        var perturbed = scores.add(upstream, alpha: lambda);
        return RanksOf(perturbed).sub_(ranks).div_(lambda + GradientEpsilon).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The blackbox gradient of one float32 row on the CPU, in one pass over the row: s' = s + lambda * g into
    /// <paramref name="perturbed"/>, its ranks into <paramref name="gradient"/>, then (r' - r) / (lambda + 1e-8) in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GradientRow(
        ReadOnlySpan<float> scores, ReadOnlySpan<float> upstream, ReadOnlySpan<float> ranks, double lambda,
        Span<float> perturbed, Span<float> gradient, RowRadixRanker.SingleRowRanker ranker)
    {
        float strength = (float)lambda;
        float denominator = (float)(lambda + GradientEpsilon);
        for (int j = 0; j < scores.Length; j++)
        {
            perturbed[j] = scores[j] + (strength * upstream[j]);
        }

        ranker.Rank(perturbed, gradient, descending: true, RankTies.IndexOrder);
        for (int j = 0; j < gradient.Length; j++)
        {
            gradient[j] = (gradient[j] - ranks[j]) / denominator;
        }
    }

    private static Tensor GradientOnCpu(Tensor scores, Tensor upstream, Tensor ranks, double lambda)
    {
        using var scope = NewDisposeScope();
        int n = (int)ranks.shape[^1];
        var s = RowBlocks.Contiguous(scores.reshape(-1, n));
        var g = RowBlocks.Contiguous(upstream.reshape(-1, n));
        var r = RowBlocks.Contiguous(ranks.reshape(-1, n));
        var output = empty_like(r);
        RowBlocks.Run(r.shape[0], n, (long)n * sizeof(float), (start, count) =>
        {
            using var ranker = new RowRadixRanker.SingleRowRanker(n);
            var perturbed = ArrayPool<float>.Shared.Rent(n);
            try
            {
                var sRows = RowBlocks.Rows<float>(s, start, count);
                var gRows = RowBlocks.Rows<float>(g, start, count);
                var rRows = RowBlocks.Rows<float>(r, start, count);
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
        return output.reshape(ranks.shape).MoveToOuterDisposeScope();
    }
}
