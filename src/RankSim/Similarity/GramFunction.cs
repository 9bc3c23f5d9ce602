using RankSim.Autograd;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// S = n n^T for the kept rows of the features, with n = normalize(f) (cosine) or n = f (dot product), as one custom
/// autograd function of tensor operations (any device). Its backward pass needs one matrix product where autograd's
/// generic graph needs two: for the upstream gradient G, dL/dn = (G + G^T) n. The normalization's Jacobian is applied
/// directly, dL/df = (dn - n (n . dn)) / max(||f||, eps) per row, with ||f|| computed as s ||f / s|| (s the row's
/// largest magnitude, see <see cref="FeatureSimilarities.RowScale"/>) so that it neither overflows nor underflows; for
/// an all-zero row n = 0 and this is dn / eps, finite, as <c>normalize</c>'s own backward gives. Rows that were not
/// kept get a zero gradient. <c>Cpu.GramRowsFunction</c> computes the same on the CPU with managed row kernels.
/// </summary>
internal sealed class GramFunction : autograd.SingleTensorFunction<GramFunction>
{
    private const string CosineKey = "cosine";
    private const string BatchKey = "batch";

    public override string Name => nameof(GramFunction);

    /// <summary>vars: features [B, D] (float32 or float64), kept rows (int64 [M] or null for all), cosine (bool).</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) =>
        Forward(ctx, vars, (features, rows, cosine) =>
        {
            // Without rows the caller's features themselves are saved (dot product): changing them in place before
            // backward makes backward fail with a catchable error, as for libtorch's own functions.
            var kept = rows is null ? features.detach() : features.index_select(0, rows);
            if (!cosine)
            {
                // Saved tensors must outlive this call's scope: they move out with the result.
                ctx.save_for_backward([kept.MoveToOuterDisposeScope(), rows!]);
                return kept.mm(kept.t());
            }

            // n = f / max(||f||, eps), as normalize computes it, with ||f|| = s ||f / s|| so that it neither overflows nor
            // underflows: denominator = max(||f / s||, eps / s), and s * denominator = max(||f||, eps).
            var scale = FeatureSimilarities.RowScale(kept);
            var scaled = kept / scale;
            var denominator = scaled.norm(1, keepdim: true).maximum(scale.reciprocal().mul_(FeatureSimilarities.NormalizationEpsilon));
            var normalized = scaled.div_(denominator);
            ctx.save_for_backward([normalized.MoveToOuterDisposeScope(), rows!, denominator.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope()]);
            return normalized.mm(normalized.t());
        });

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        Backward(ctx, grad_output, Name, n => n.dtype, (upstream, saved, cosine, batch) =>
        {
            var n = saved[0];
            var rows = saved[1];
            var gradient = (upstream + upstream.t()).mm(n);
            if (cosine)
            {
                var along = (gradient * n).sum(1, keepdim: true);

                // Two divisions, not one by their product: for an all-zero row that product underflows to 0.
                gradient = gradient.addcmul_(n, along, value: -1).div_(saved[2]).div_(saved[3]);
            }

            return rows is null
                ? gradient
                : zeros(batch, gradient.shape[1], dtype: gradient.dtype, device: gradient.device).index_copy_(0, rows, gradient);
        });

    /// <summary>
    /// The forward pass shared with <c>Cpu.GramRowsFunction</c>: reads vars (features, kept rows or null, cosine), records
    /// what backward needs besides the tensors, and returns <paramref name="similarity"/>(features, rows, cosine), which
    /// saves its tensors for backward (moving them out of this call's dispose scope) and returns S [M, M].
    /// </summary>
    internal static Tensor Forward(autograd.AutogradContext ctx, object[] vars, Func<Tensor, Tensor?, bool, Tensor> similarity)
    {
        var features = (Tensor)vars[0];
        var rows = (Tensor?)vars[1];
        bool cosine = (bool)vars[2];
        using var scope = NewDisposeScope();
        ctx.save_data(CosineKey, cosine);
        ctx.save_data(BatchKey, features.shape[0]);
        return similarity(features, rows, cosine).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The backward pass shared with <c>Cpu.GramRowsFunction</c>, inside <see cref="BackwardGuard.Run"/>: the saved
    /// tensors (n first), the upstream gradient made dense in <paramref name="dtypeOf"/>(n), and
    /// <paramref name="gradient"/>(upstream, saved, cosine, batch) = dL/df [B, D].
    /// </summary>
    internal static List<Tensor> Backward(
        autograd.AutogradContext ctx, Tensor gradOutput, string name, Func<Tensor, ScalarType> dtypeOf, Func<Tensor, List<Tensor>, bool, long, Tensor> gradient) =>
        BackwardGuard.Run(name, 3, () =>
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var upstream = BackwardGuard.Dense(gradOutput, dtypeOf(saved[0]));
            if (upstream is null)
            {
                return [null!, null!, null!];
            }

            bool cosine = (bool)ctx.get_data(CosineKey);
            long batch = (long)ctx.get_data(BatchKey);
            return [gradient(upstream, saved, cosine, batch).MoveToOuterDisposeScope(), null!, null!];
        });
}
