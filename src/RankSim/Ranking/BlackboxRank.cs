using RankSim.Autograd;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Row-wise normalized descending ranks with the blackbox-differentiation gradient of Vlastelica et al.
/// ("Differentiation of Blackbox Combinatorial Solvers", ICLR 2020), as RankSim uses it (Gong et al., ICML 2022, Eq. 3).
/// </summary>
/// <remarks>
/// Forward: r = rk(s). Exactly equal scores get distinct ranks in index order (the earlier column ranks first), on every
/// device; every NaN ranks as one value above +infinity (before all numbers). Backward, for the upstream gradient g:
/// s' = s + lambda * g, r' = rk(s'), and dL/ds = -(r - r') / (lambda + 1e-8); a row whose upstream gradient holds a
/// NaN or an infinity gets NaN throughout (a non-finite gradient is passed on, not hidden by the ranking).
/// </remarks>
internal static class BlackboxRank
{
    internal const double GradientEpsilon = 1e-8;

    /// <summary>
    /// Normalized descending ranks of <paramref name="scores"/> (1-D [N] or 2-D [R, N], ranked along the last dimension),
    /// differentiable through blackbox interpolation.
    /// </summary>
    /// <param name="scores">Floating-point scores, [N] or [R, N] with N &gt;= 1, on any device.</param>
    /// <param name="interpolationLambda">
    /// Interpolation strength lambda in (0, 1e30] of the backward pass (RankSim's default is 2). A lambda so small that
    /// s + lambda * g orders every row as s does gives an exactly zero gradient: with float32 scores near 1, lambda * |g|
    /// must reach about 1e-7 (float32's spacing there) to move anything.
    /// </param>
    /// <returns>
    /// Ranks in {1/N, ..., 1}, the shape of <paramref name="scores"/>; float64 for float64 scores, float32 otherwise
    /// (float16 and bfloat16 cannot hold k/N exactly). The gradient reaches <paramref name="scores"/> in its own dtype.
    /// Changing the scores in place before backward makes backward raise libtorch's error for a saved tensor modified by
    /// an in-place operation, naming the scores' type and shape (see <see cref="SavedInputCheck"/>); the process is never
    /// aborted. The result is the caller's own tensor: changing it in place goes through autograd as for any tensor, and
    /// the gradient comes from the ranks as computed. A second backward through the result without <c>retain_graph</c>
    /// raises, as for libtorch's functions.
    /// </returns>
    /// <exception cref="ArgumentException">A null, empty, non-floating, non-finite or wrongly shaped tensor, or lambda not a finite positive number.</exception>
    public static Tensor Apply(Tensor scores, double interpolationLambda) => Apply(scores, interpolationLambda, nameof(interpolationLambda));

    /// <summary><see cref="Apply(Tensor, double)"/>, naming lambda as the caller's parameter in an exception.</summary>
    internal static Tensor Apply(Tensor scores, double interpolationLambda, string lambdaName)
    {
        InputValidation.RequireLambda(interpolationLambda, lambdaName);
        return Rank(scores, interpolationLambda);
    }

    /// <summary>The ranks for a lambda already checked (by <see cref="BlackboxRanker"/>'s constructor): checks the scores.</summary>
    internal static Tensor Rank(Tensor scores, double interpolationLambda)
    {
        InputValidation.RequireLive(scores, nameof(scores));
        InputValidation.RequireRankScores(scores, nameof(scores));
        return SavedInputCheck.Attach(BlackboxRankFunction.Apply(scores, interpolationLambda, perRow: false), scores);
    }

    /// <summary>The dtype ranks are computed in: float64 stays, everything else becomes float32.</summary>
    internal static ScalarType WorkingDtype(ScalarType dtype) => dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    /// <summary>
    /// dL/ds = -(rk(s) - rk(s + lambda * g)) / (lambda + 1e-8) for scores s [R, N], upstream gradient g and the forward
    /// ranks rk(s), all of the ranks' dtype, by tensor operations; rows of g that are not all finite give NaN rows. The
    /// forward ranking's <see cref="Ranks.Positions"/>, when the caller kept them, spare making them again, and a caller
    /// that knows which rows of g are not finite passes them as <paramref name="nonFiniteRows"/> (see <see cref="NonFiniteRows"/>).
    /// </summary>
    internal static Tensor Gradient(Tensor scores, Tensor upstream, Tensor ranks, double lambda, Tensor? positions = null, Tensor? nonFiniteRows = null)
    {
        // lambda * g rounded, then + s rounded: the kernel's two float operations (MaxLambda keeps lambda a float32).
        using var scope = NewDisposeScope();
        var perturbed = upstream.mul(lambda).add_(scores);
        var gradient = RankPerturbed(perturbed, positions).sub_(ranks).div_(lambda + GradientEpsilon);
        return gradient.add_(nonFiniteRows ?? NonFiniteRows(upstream)).MoveToOuterDisposeScope();
    }

    private static Tensor RankPerturbed(Tensor perturbed, Tensor? positions) =>
        positions is null ? Ranks.Descending(perturbed, RankTies.IndexOrder) : Ranks.DescendingWith(perturbed, positions);

    /// <summary>
    /// [R, 1] of +0 for each row of <paramref name="upstream"/> [R, N] that is all finite and NaN for every other: the
    /// largest magnitude of a row is NaN or infinite exactly when the row holds a NaN or an infinity, and m - m is then
    /// NaN (else +0). Added to a gradient, it makes those rows NaN and leaves the others' bits as they are (no gradient
    /// value is -0). Three libtorch operations where isfinite, all and not take a dozen on the CPU.
    /// </summary>
    internal static Tensor NonFiniteRows(Tensor upstream)
    {
        var largest = upstream.abs().amax([-1], keepdim: true);
        return largest.sub_(largest);
    }

    /// <summary>
    /// The <see cref="PerturbationScaling.PerRow"/> strengths lambda_i = lambda * std(s_i) / mean|g_i| of rows s [R, N] and
    /// their upstream gradients g, in float64 [R, 1]: lambda where either statistic is 0 or not finite, at most
    /// <see cref="InputValidation.MaxLambda"/>.
    /// </summary>
    internal static Tensor RowStrengths(Tensor scores, Tensor upstream, double lambda)
    {
        using var scope = NewDisposeScope();
        var spread = scores.to(ScalarType.Float64).std(1, unbiased: false, keepdim: true);
        var size = upstream.to(ScalarType.Float64).abs().mean([1], keepdim: true);
        var factor = spread.div(size);
        var usable = spread.gt(0).logical_and_(size.gt(0)).logical_and_(factor.isfinite());
        return where(usable, factor, ones_like(factor)).mul_(lambda).clamp_max_(InputValidation.MaxLambda).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Gradient"/> with a strength per row (<see cref="RowStrengths"/>): the step lambda_i * g rounded to the
    /// scores' dtype, then + s; the divisor lambda_i + 1e-8 likewise (the kernel's float operations).
    /// </summary>
    internal static Tensor GradientPerRow(Tensor scores, Tensor upstream, Tensor ranks, double lambda, Tensor? positions = null, Tensor? nonFiniteRows = null)
    {
        using var scope = NewDisposeScope();
        var strengths = RowStrengths(scores, upstream, lambda);
        var perturbed = upstream.mul(strengths.to(upstream.dtype)).add_(scores);
        var gradient = RankPerturbed(perturbed, positions).sub_(ranks).div_(strengths.add(GradientEpsilon).to(ranks.dtype));
        return gradient.add_(nonFiniteRows ?? NonFiniteRows(upstream)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The custom autograd function of the ranks and their blackbox gradient, computed by the backend
    /// <see cref="Dispatch.Blackbox"/> picks (backward uses the one forward used; <see cref="GradientPerRow"/> on both). It saves the scores and the ranks it returns; changing either in place
    /// before backward makes backward fail with a catchable error, as for libtorch's own functions.
    /// </summary>
    internal sealed class BlackboxRankFunction : autograd.SingleTensorFunction<BlackboxRankFunction>
    {
        private const string LambdaKey = "lambda";
        private const string PerRowKey = "perRow";
        private const string DtypeKey = "dtype";
        private const string ShapeKey = "shape";
        private const string BackendKey = "backend";

        public override string Name => nameof(BlackboxRankFunction);

        /// <summary>Ranks of scores [N] or [R, N] (validated), differentiable with strength lambda (per row when <paramref name="perRow"/>).</summary>
        public static Tensor Apply(Tensor scores, double lambda, bool perRow) => apply(scores, lambda, perRow);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var scores = (Tensor)vars[0];
            var backend = Dispatch.Blackbox(scores);
            using var scope = NewDisposeScope();
            var rows = scores.detach();
            rows = rows.dim() == 2 ? rows : rows.reshape(-1, scores.size(-1));
            rows = rows.dtype == WorkingDtype(scores.dtype) ? rows : rows.to(WorkingDtype(scores.dtype));
            var ranks = backend.RankRows(rows, descending: true, RankTies.IndexOrder);

            // The ranks are saved as a detached alias of the output: saving the returned tensor itself is much slower, and
            // a copy costs memory (docs/cpu-backend.md has the numbers).
            ctx.save_for_backward([rows.MoveToOuterDisposeScope(), ranks.detach().MoveToOuterDisposeScope()]);
            ctx.save_data(LambdaKey, (double)vars[1]);
            ctx.save_data(PerRowKey, (bool)vars[2]);
            ctx.save_data(DtypeKey, scores.dtype);
            ctx.save_data(ShapeKey, scores.shape);
            ctx.save_data(BackendKey, backend);

            // Never a view (of the [R, N] ranks): autograd forbids in-place changes to a custom function's view outputs. The
            // caller gets the output plus a zero (SavedInputCheck), a tensor of its own: changing it in place cannot reach
            // the saved ranks.
            var output = scores.dim() == 2 ? ranks : ranks.reshape(scores.shape).clone();
            return output.MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            BackwardGuard.Run(Name, 3, () =>
            {
                using var scope = NewDisposeScope();
                var saved = ctx.get_saved_variables();

                // Detached: a saved leaf that requires grad comes back requiring grad, and every view of it taken here
                // would then be recorded by autograd.
                var scores = saved[0].detach();
                var ranks = saved[1].detach();
                var upstream = BackwardGuard.Dense(grad_output, ranks.dtype);
                if (upstream is null)
                {
                    return [null!, null!, null!];
                }

                double lambda = (double)ctx.get_data(LambdaKey);
                var rowUpstream = upstream.dim() == 2 ? upstream : upstream.reshape(ranks.shape);
                var result = (bool)ctx.get_data(PerRowKey)
                    ? GradientPerRow(scores, rowUpstream, ranks, lambda)
                    : ((TensorBackend)ctx.get_data(BackendKey)).BlackboxGradient(scores, rowUpstream, ranks, lambda);
                var shape = (long[])ctx.get_data(ShapeKey);
                var dtype = (ScalarType)ctx.get_data(DtypeKey);
                result = shape.Length == 2 ? result : result.reshape(shape);
                return [(result.dtype == dtype ? result : result.to(dtype)).MoveToOuterDisposeScope(), null!, null!];
            });
    }
}
