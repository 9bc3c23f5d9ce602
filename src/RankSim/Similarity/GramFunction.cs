using RankSim.Autograd;
using RankSim.Cpu;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// S = n n^T for the ranked rows f [M, D] (gathered by the caller), with n = normalize(f) (cosine) or n = f (dot
/// product), as one custom autograd function. Its backward pass needs one matrix product where autograd's generic graph needs two: for the
/// upstream gradient G, dL/dn = (G + G^T) n. The normalization's Jacobian is applied directly,
/// dL/df = (dn - n (n . dn)) / max(||f||, eps) per row, with ||f|| computed as s ||f / s|| (s the row's largest
/// magnitude, see <see cref="FeatureSimilarities.RowScale"/>) so that it neither overflows nor underflows; for an all-zero
/// row n = 0 and this is dn / eps, finite, as <c>normalize</c>'s own backward gives. Float32 features on the CPU take the row kernels of <see cref="GramRows"/> for everything but the two matrix
/// products (where <see cref="GramRows.Takes"/> says so); everything else takes the tensor formulas below. The
/// choice is made in forward and followed by backward.
/// </summary>
internal sealed class GramFunction : autograd.SingleTensorFunction<GramFunction>
{
    private const string CosineKey = "cosine";
    private const string KernelKey = "kernel";

    public override string Name => nameof(GramFunction);

    /// <summary>S [M, M] of the rows f [M, D] (float32 or float64).</summary>
    public static Tensor Apply(Tensor rows, bool cosine) => apply(rows, cosine);

    /// <summary>vars: the rows f [M, D] (float32 or float64), cosine (bool).</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var features = (Tensor)vars[0];
        bool cosine = (bool)vars[1];
        bool kernel = GramRows.Takes(features);
        using var scope = NewDisposeScope();
        ctx.save_data(CosineKey, cosine);
        ctx.save_data(KernelKey, kernel);
        if (kernel)
        {
            // For the dot product n is a contiguous copy, so nothing of the caller's is saved on this path.
            var (n, denominators, scales) = GramRows.Normalize(RowBlocks.Contiguous(features), cosine, FeatureSimilarities.NormalizationEpsilon);
            ctx.save_for_backward([n.MoveToOuterDisposeScope(), denominators?.MoveToOuterDisposeScope()!, scales?.MoveToOuterDisposeScope()!]);
            return n.mm(n.t()).MoveToOuterDisposeScope();
        }

        // The dot product saves the rows themselves (the caller's features when all rows are ranked): changing them in
        // place before backward makes backward fail with a catchable error, as for libtorch's own functions.
        var kept = features.detach();
        if (!cosine)
        {
            // Saved tensors must outlive this call's scope: they move out with the result.
            ctx.save_for_backward([kept.MoveToOuterDisposeScope()]);
            return kept.mm(kept.t()).MoveToOuterDisposeScope();
        }

        // n = f / max(||f||, eps), as normalize computes it, with ||f|| = s ||f / s|| so that it neither overflows nor
        // underflows: denominator = max(||f / s||, eps / s), and s * denominator = max(||f||, eps).
        var scale = FeatureSimilarities.RowScale(kept);
        var scaled = kept / scale;
        var denominator = scaled.norm(1, keepdim: true).maximum(scale.reciprocal().mul_(FeatureSimilarities.NormalizationEpsilon));
        var normalized = scaled.div_(denominator);
        ctx.save_for_backward([normalized.MoveToOuterDisposeScope(), denominator.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope()]);
        return normalized.mm(normalized.t()).MoveToOuterDisposeScope();
    }

    /// <summary>dL/df [M, D] (the saved n first), inside <see cref="BackwardGuard.Run"/>; the upstream gradient made dense in n's dtype.</summary>
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        BackwardGuard.Run(Name, 2, () =>
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var n = saved[0];
            var upstream = BackwardGuard.Dense(grad_output, n.dtype);
            if (upstream is null)
            {
                return [null!, null!];
            }

            bool cosine = (bool)ctx.get_data(CosineKey);
            if ((bool)ctx.get_data(KernelKey))
            {
                var normalizedGradient = GramRows.SymmetricSum(upstream).mm(n);
                return [(cosine ? GramRows.Gradient(normalizedGradient, n, saved[1], saved[2]) : normalizedGradient).MoveToOuterDisposeScope(), null!];
            }

            var gradient = (upstream + upstream.t()).mm(n);
            if (cosine)
            {
                var along = (gradient * n).sum(1, keepdim: true);

                // Two divisions, not one by their product: for an all-zero row that product underflows to 0.
                gradient = gradient.addcmul_(n, along, value: -1).div_(saved[1]).div_(saved[2]);
            }

            return [gradient.MoveToOuterDisposeScope(), null!];
        });
}
