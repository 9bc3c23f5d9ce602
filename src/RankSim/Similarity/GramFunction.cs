using TorchSharp;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// S = n n^T for the kept rows of the features, with n = normalise(f) (cosine) or n = f (dot product), as one custom
/// autograd function. Its backward pass needs one matrix product where autograd's generic graph needs two: for the
/// upstream gradient G, dL/dn = (G + G^T) n. The normalisation's Jacobian is applied directly,
/// dL/df = (dn - n (n . dn)) / (s max(||f / s||, eps)) per row, with s the row's largest magnitude (see
/// <see cref="FeatureSimilarities.RowScale"/>); for an all-zero row n = 0 and this is dn / (s eps), as <c>normalize</c>'s
/// own backward gives. Rows that were not kept get a zero gradient. For float32 CPU features the row-wise steps (gather
/// and normalise; G + G^T; the Jacobian into the full gradient) run in managed kernels (<see cref="GramRows"/>) and
/// only the two matrix products are libtorch calls; elsewhere tensor operations compute the same formulas.
/// </summary>
internal sealed class GramFunction : autograd.SingleTensorFunction<GramFunction>
{
    private const string CosineKey = "cosine";
    private const string BatchKey = "batch";
    private const string RowKernelsKey = "rowKernels";

    public override string Name => nameof(GramFunction);

    /// <summary>vars: features [B, D] (float32 or float64), kept rows (int64 [M] or null for all), cosine (bool).</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var features = (Tensor)vars[0];
        var rows = (Tensor?)vars[1];
        bool cosine = (bool)vars[2];
        using var scope = NewDisposeScope();
        ctx.save_data(CosineKey, cosine);
        ctx.save_data(BatchKey, features.shape[0]);
        bool rowKernels = GramRows.Supports(features);
        ctx.save_data(RowKernelsKey, rowKernels);
        if (rowKernels)
        {
            var (n, denominators, scales) = GramRows.Normalise(RowBlocks.Contiguous(features), rows, cosine);
            ctx.save_for_backward([n.MoveToOuterDisposeScope(), rows!, denominators?.MoveToOuterDisposeScope()!, scales?.MoveToOuterDisposeScope()!]);
            return n.mm(n.t()).MoveToOuterDisposeScope();
        }

        // A new handle even without rows, so that moving the saved tensor out of this scope never moves the caller's tensor.
        var kept = rows is null ? features.detach() : features.index_select(0, rows);
        if (!cosine)
        {
            // Saved tensors must outlive this scope: they move out with the result (the caller's scope owns them).
            ctx.save_for_backward([kept.MoveToOuterDisposeScope(), rows!]);
            return kept.mm(kept.t()).MoveToOuterDisposeScope();
        }

        var scale = FeatureSimilarities.RowScale(kept);
        var scaled = kept / scale;
        var denominator = scaled.norm(1, keepdim: true).clamp_min_(FeatureSimilarities.NormalisationEpsilon);
        var normalised = scaled.div_(denominator);
        var similarity = normalised.mm(normalised.t());
        ctx.save_for_backward([normalised.MoveToOuterDisposeScope(), rows!, denominator.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope()]);
        return similarity.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        using var scope = NewDisposeScope();
        var saved = ctx.get_saved_variables();
        var n = saved[0];
        var rows = saved[1];
        bool cosine = (bool)ctx.get_data(CosineKey);
        long batch = (long)ctx.get_data(BatchKey);
        if ((bool)ctx.get_data(RowKernelsKey))
        {
            var normalisedGradient = GramRows.SymmetricSum(grad_output).mm(n);
            return [GramRows.Gradient(normalisedGradient, n, rows, cosine ? saved[2] : null, cosine ? saved[3] : null, batch).MoveToOuterDisposeScope(), null!, null!];
        }

        var gradient = (grad_output + grad_output.t()).mm(n);
        if (cosine)
        {
            var along = (gradient * n).sum(1, keepdim: true);
            // Two divisions, not one by their product: for an all-zero row that product underflows to 0.
            gradient = gradient.addcmul_(n, along, value: -1).div_(saved[2]).div_(saved[3]);
        }

        if (rows is not null)
        {
            gradient = zeros(batch, gradient.shape[1], dtype: gradient.dtype, device: gradient.device).index_copy_(0, rows, gradient);
        }

        return [gradient.MoveToOuterDisposeScope(), null!, null!];
    }
}
