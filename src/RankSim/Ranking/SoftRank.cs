using RankSim.Autograd;
using RankSim.Cpu;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Soft ranks (Blondel, Teboul, Berthet, Djolonga, "Fast Differentiable Sorting and Ranking", ICML 2020, Sec. 4 and
/// Prop. 3, quadratic regularization): the Euclidean projection of -s / epsilon onto the permutahedron of (N, ..., 1),
/// divided by N, along the last dimension. As epsilon goes to 0 they become <see cref="BlackboxRank"/>'s exact normalized
/// descending ranks (1/N for the largest score, 1 for the smallest); a larger epsilon pools neighbouring scores into equal
/// ranks. Unlike the blackbox ranks they are differentiable almost everywhere, with an exact gradient.
/// </summary>
/// <remarks>
/// Formula (Prop. 3): z = -s / epsilon; sort z descending (stable: s ascending), values z_(1) &gt;= ... &gt;= z_(N); w = (N, ..., 1);
/// v = the non-increasing isotonic regression of y = z_(.) - w (least squares); the soft rank of the element at sorted
/// position i is (z_(i) - v_i) / N. v is constant on blocks of positions, each block's value the mean of y over the
/// block. Gradient: for an upstream gradient u (in sorted order), dL/dz_(i) = (u_i - mean of u over i's block) / N, and
/// dL/ds = -dL/dz / epsilon. Computed in float64 from the gaps between sorted neighbours, (s_(i+1) - s_(i)) / epsilon, each
/// capped at N + 1 (<see cref="GapCap"/>: the same ranks and gradient, no overflow or loss of precision for any finite s and
/// epsilon), equal neighbours 0 apart (also equal infinities, which similarities that overflowed can be); each block's
/// mean from its own sum, so that a block of one element gets a gradient of exactly 0 whatever 1 / epsilon; returned in
/// float32 (saturated to its finite range), or float64 for float64 scores. A non-finite upstream gradient makes its block
/// non-finite. The device-agnostic formula finds v with the min-max formula
/// v_i = min over j &lt;= i of max over k &gt;= i of mean(y_j..y_k) (O(N^2) memory per row, rows in chunks); on the CPU
/// <see cref="SoftRankRows"/> runs pool-adjacent-violators (O(N log N) per row) with the same arithmetic.
/// </remarks>
internal static class SoftRank
{
    /// <summary>The largest regularization accepted.</summary>
    public const double MaxRegularization = 1e30;

    /// <summary>The smallest regularization accepted.</summary>
    public const double MinRegularization = 1e-30;

    /// <summary>Soft normalized descending ranks of <paramref name="scores"/> along the last dimension, differentiable.</summary>
    /// <param name="scores">Floating-point scores, [N] or [R, N] with N &gt;= 1, finite, on any device.</param>
    /// <param name="regularization">epsilon in [1e-30, 1e30], in the units of the scores: scores closer than about epsilon share ranks.</param>
    /// <returns>
    /// Soft ranks in [1/N, 1] (each row sums to (N + 1) / 2), the shape of the scores; float64 for float64 scores, float32
    /// otherwise. The gradient reaches the scores in their dtype, saturated to its finite range.
    /// </returns>
    /// <exception cref="ArgumentException">A null, disposed, empty, non-floating, non-finite or wrongly shaped tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The regularization is not in [1e-30, 1e30].</exception>
    public static Tensor Apply(Tensor scores, double regularization)
    {
        InputValidation.RequireLive(scores, nameof(scores));
        RequireRegularization(regularization, nameof(regularization));
        InputValidation.RequireRankScores(scores, nameof(scores));
        return SoftRankFunction.Apply(scores, regularization, normalized: true);
    }

    /// <summary>Throws unless <paramref name="regularization"/> is in [<see cref="MinRegularization"/>, <see cref="MaxRegularization"/>].</summary>
    internal static void RequireRegularization(double regularization, string name)
    {
        if (!double.IsFinite(regularization) || regularization < MinRegularization || regularization > MaxRegularization)
        {
            throw new ArgumentOutOfRangeException(
                name, regularization, $"The soft-rank regularization must be a finite number in [{MinRegularization:G}, {MaxRegularization:G}].");
        }
    }

    /// <summary>
    /// The largest gap kept between neighbours of the sorted z: N + 1. Across a gap of N - 1 or more no block can form
    /// (the means left of it are at least z_(i) - N, those right of it at most z_(i+1) - 1), and each side's soft ranks do
    /// not change when it is shifted; so a larger gap gives the same ranks and gradient as N + 1, and z stays within
    /// about N^2 of 0, where float64 keeps the w's and the block means exact to rounding, whatever the scale of s / epsilon.
    /// </summary>
    internal static double GapCap(long n) => n + 1.0;

    /// <summary>The rows elementwise limit of one min-max chunk: [rows, N, N] tensors of about this many elements.</summary>
    private const long ChunkElements = 1 << 21;

    /// <summary>
    /// The forward formula by tensor operations for rows [R, N] in the working dtype (float32 or float64): the soft ranks
    /// [R, N] (computed in float64, returned in the rows' dtype) and, saved for <see cref="Gradient"/>, the sorting order and
    /// for each sorted position the first and last position of its block (int64 [R, N] each).
    /// </summary>
    internal static (Tensor Ranks, Tensor[] Saved) Forward(Tensor workingRows, double regularization, double rankScale)
    {
        using var scope = NewDisposeScope();
        var rows = workingRows.to(ScalarType.Float64);
        long n = rows.size(1);
        var (ascending, order) = rows.sort(dim: -1, descending: false, stable: true);
        var (upper, lower) = (ascending[TensorIndex.Colon, TensorIndex.Slice(1)], ascending[TensorIndex.Colon, TensorIndex.Slice(null, -1)]);
        var gaps = (upper - lower).mul_(1.0 / regularization).clamp_max_(GapCap(n)).masked_fill_(upper.eq(lower), 0);
        var sorted = cat([zeros(rows.size(0), 1, dtype: ScalarType.Float64, device: rows.device), gaps.cumsum(-1).neg_()], dim: -1);
        var y = sorted - arange(n, 0, -1, dtype: ScalarType.Float64, device: rows.device);
        var sums = cat([zeros(rows.size(0), 1, dtype: ScalarType.Float64, device: rows.device), y.cumsum(-1)], dim: -1);

        // A[j, k] = mean(y_j..y_k) = (C[k + 1] - C[j]) / (k - j + 1) for j <= k; -inf elsewhere (never a maximum).
        var position = arange(n, dtype: ScalarType.Int64, device: rows.device);
        var lengths = position.unsqueeze(0) - position.unsqueeze(1) + 1;
        var valid = lengths.gt(0);
        var divisors = lengths.to(ScalarType.Float64);
        long chunk = Math.Max(1, ChunkElements / (n * n));
        var values = new List<Tensor>();
        var firsts = new List<Tensor>();
        var lasts = new List<Tensor>();
        for (long start = 0; start < rows.size(0); start += chunk)
        {
            var c = sums[TensorIndex.Slice(start, start + chunk)];
            var means = (c[TensorIndex.Colon, TensorIndex.None, TensorIndex.Slice(1)] - c[TensorIndex.Colon, TensorIndex.Slice(null, -1), TensorIndex.None])
                .div_(divisors).masked_fill_(valid.logical_not(), double.NegativeInfinity);

            // B[j, i] = max over k >= i of A[j, k] (a running maximum from the right), and the k that gives it.
            var (suffixMax, suffixIndex) = means.flip(-1).cummax(-1);
            var maxima = suffixMax.flip(-1);
            var lastOf = (n - 1) - suffixIndex.flip(-1);

            // v_i = min over j <= i of B[j, i] (a running minimum down the rows, read on the diagonal), and the j that gives it.
            var (prefixMin, prefixIndex) = maxima.cummin(1);
            values.Add(prefixMin.diagonal(0, 1, 2));
            var first = prefixIndex.diagonal(0, 1, 2);
            firsts.Add(first);
            lasts.Add(lastOf.gather(1, first.unsqueeze(1)).squeeze(1));
        }

        var v = cat(values, 0);
        var rankedSorted = sorted.sub(v).mul_(rankScale / n);
        var ranks = empty_like(rankedSorted).scatter_(-1, order, rankedSorted);
        return (ranks.to(workingRows.dtype).MoveToOuterDisposeScope(),
            [order.MoveToOuterDisposeScope(), cat(firsts, 0).MoveToOuterDisposeScope(), cat(lasts, 0).MoveToOuterDisposeScope()]);
    }

    /// <summary>
    /// The gradient formula by tensor operations: for the upstream gradient [R, N] (working dtype, original order) and what
    /// <see cref="Forward"/> saved, dL/ds [R, N], computed in float64 and returned in the working dtype (saturated to its
    /// finite range: with a tiny epsilon the float64 gradient can exceed float32's).
    /// </summary>
    internal static Tensor Gradient(Tensor workingUpstream, IList<Tensor> saved, double regularization, double rankScale)
    {
        using var scope = NewDisposeScope();
        var (order, first, last) = (saved[0], saved[1], saved[2]);
        var upstream = workingUpstream.to(ScalarType.Float64);
        long n = upstream.size(1);
        var sortedUpstream = upstream.gather(-1, order);

        // Each block's sum over the block alone (not a difference of running sums, whose rounding 1 / (N epsilon) would
        // blow up): a block of one position gets exactly its own value, and a gradient of exactly 0.
        var blockSums = zeros_like(sortedUpstream).scatter_add_(-1, first, sortedUpstream);
        var blockMeans = blockSums.gather(-1, first).div_((last - first + 1).to(ScalarType.Float64));
        var sortedGradient = sortedUpstream.sub(blockMeans).mul_(-rankScale / (n * regularization));
        var gradient = empty_like(sortedGradient).scatter_(-1, order, sortedGradient);
        gradient = workingUpstream.dtype == ScalarType.Float32 ? gradient.clamp_(-float.MaxValue, float.MaxValue).to(ScalarType.Float32) : gradient;
        return gradient.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The custom autograd function of the soft ranks, computed by the backend <see cref="Dispatch.SoftRanks"/> picks
    /// (backward uses the one forward used).
    /// </summary>
    internal sealed class SoftRankFunction : autograd.SingleTensorFunction<SoftRankFunction>
    {
        private const string RegularizationKey = "regularization";
        private const string DtypeKey = "dtype";
        private const string ShapeKey = "shape";
        private const string BackendKey = "backend";
        private const string ScaleKey = "scale";

        public override string Name => nameof(SoftRankFunction);

        /// <summary>
        /// Soft ranks of scores [N] or [R, N] (validated) with regularization epsilon, differentiable: normalized (in
        /// [1/N, 1]), or not (in [1, N]; scaled by N in float64 inside the function, so that neither the ranks nor the
        /// gradient pass through a float32 multiplication by N).
        /// </summary>
        public static Tensor Apply(Tensor scores, double regularization, bool normalized) => apply(scores, regularization, normalized);

        /// <summary>vars: scores (floating, [N] or [R, N]), regularization (double), normalized (bool).</summary>
        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var scores = (Tensor)vars[0];
            double regularization = (double)vars[1];
            double rankScale = (bool)vars[2] ? 1.0 : scores.size(-1);
            var backend = Dispatch.SoftRanks(scores);
            using var scope = NewDisposeScope();
            var rows = scores.detach().reshape(-1, scores.size(-1)).to(BlackboxRank.WorkingDtype(scores.dtype));
            var (ranks, saved) = backend.SoftRanks(rows, regularization, rankScale);
            ctx.save_for_backward(saved.Select(t => t.MoveToOuterDisposeScope()).ToList());
            ctx.save_data(RegularizationKey, regularization);
            ctx.save_data(ScaleKey, rankScale);
            ctx.save_data(DtypeKey, scores.dtype);
            ctx.save_data(ShapeKey, scores.shape);
            ctx.save_data(BackendKey, backend);

            // Never a view (of the [R, N] ranks): autograd forbids in-place changes to a custom function's view outputs.
            var output = scores.dim() == 2 ? ranks : ranks.reshape(scores.shape).clone();
            return output.MoveToOuterDisposeScope();
        }

        /// <summary>
        /// The upstream gradient made dense in the working dtype as rows [R, N], the gradient in the working dtype, returned
        /// in the scores' shape and dtype (saturated to float16's or bfloat16's range). Runs inside <see cref="BackwardGuard.Run"/>.
        /// </summary>
        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            BackwardGuard.Run(Name, 3, () =>
            {
                using var scope = NewDisposeScope();
                var saved = ctx.get_saved_variables();
                var dtype = (ScalarType)ctx.get_data(DtypeKey);
                var upstream = BackwardGuard.Dense(grad_output, BlackboxRank.WorkingDtype(dtype));
                if (upstream is null)
                {
                    return [null!, null!, null!];
                }

                var rows = upstream.reshape(saved[0].shape);
                double regularization = (double)ctx.get_data(RegularizationKey);
                double rankScale = (double)ctx.get_data(ScaleKey);
                var result = ((TensorBackend)ctx.get_data(BackendKey)).SoftRankGradient(rows, saved, regularization, rankScale);
                if (dtype is ScalarType.Float16 or ScalarType.BFloat16)
                {
                    double limit = dtype == ScalarType.Float16 ? 65504 : 3.3895313892515355e38;
                    result = result.clamp(-limit, limit);
                }

                return [result.reshape((long[])ctx.get_data(ShapeKey)).to(dtype).MoveToOuterDisposeScope(), null!, null!];
            });
    }
}
