using RankSim.Autograd;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// S = n n^T for the kept rows of the features, with n = normalize(f) (cosine) or n = f (dot product), as one custom
/// autograd function. Its backward pass needs one matrix product where autograd's generic graph needs two: for the
/// upstream gradient G, dL/dn = (G + G^T) n. The normalization's Jacobian is applied directly,
/// dL/df = (dn - n (n . dn)) / max(||f||, eps) per row, with ||f|| computed as s ||f / s|| (s the row's largest
/// magnitude, see <see cref="SimilarityMatrix.RowScale"/>) so that it neither overflows nor underflows; for an all-zero
/// row n = 0 and this is dn / eps, finite, as <c>normalize</c>'s own backward gives. Rows that were not kept get a zero
/// gradient. <see cref="Forward"/> and <see cref="Gradient"/> are the formula as tensor operations; the backend
/// <see cref="Dispatch.Gram"/> picks computes them, and backward uses the one forward used.
/// </summary>
internal sealed class GramFunction : autograd.SingleTensorFunction<GramFunction>
{
    private const string CosineKey = "cosine";
    private const string BatchKey = "batch";
    private const string BackendKey = "backend";
    private const string PrivateGradientKey = "privateGradient";

    public override string Name => nameof(GramFunction);

    /// <summary>
    /// S [M, M] of the rows <paramref name="rows"/> (int64 [M], or null for all) of features [B, D] (float32 or float64).
    /// For cosine, <paramref name="inputScale"/> (0-dim, the features' dtype) says the features were divided by it: the
    /// norm floor eps applies in the units before that division (eps / inputScale here); null means 1.
    /// <paramref name="privateGradient"/>: S goes to one function whose backward returns a tensor no one else reads, so
    /// backward may overwrite S's gradient (the CPU kernels then sum it with its transpose in place, one [M, M] fewer).
    /// </summary>
    public static Tensor Apply(Tensor features, Tensor? rows, bool cosine, Tensor? inputScale = null, bool privateGradient = false) =>
        apply(features, rows!, cosine, inputScale!, privateGradient);

    /// <summary>
    /// The formula's forward by tensor operations: S and what <see cref="Gradient"/> needs (n, and for cosine the
    /// denominators max(||f / s||, eps / s) [M, 1] and the row scales s [M, 1]).
    /// </summary>
    internal static (Tensor Product, Tensor[] Saved) Forward(Tensor features, Tensor? rows, bool cosine, Tensor? inputScale)
    {
        using var scope = NewDisposeScope();
        var kept = rows is null ? features.detach() : features.index_select(0, rows);
        if (!cosine)
        {
            // Without rows the caller's features themselves are saved (dot product): changing them in place before
            // backward makes backward fail with a catchable error, as for libtorch's own functions.
            return (kept.mm(kept.t()).MoveToOuterDisposeScope(), [kept.MoveToOuterDisposeScope(), null!, null!]);
        }

        // n = f / max(||f||, eps), as normalize computes it, with ||f|| = s ||f / s|| so that it neither overflows nor
        // underflows: denominator = max(||f / s||, eps / s), and s * denominator = max(||f||, eps). Features given in
        // units of 1 / inputScale have their floor at eps / inputScale (infinite where that overflows: n = 0).
        var scale = SimilarityMatrix.RowScale(kept);
        var scaled = kept / scale;
        var floor = scale.reciprocal().mul_(SimilarityMatrix.NormalizationEpsilon);
        var denominator = scaled.norm(1, keepdim: true).maximum(inputScale is null ? floor : floor.div_(inputScale));
        var normalized = scaled.div_(denominator);
        return (normalized.mm(normalized.t()).MoveToOuterDisposeScope(),
            [normalized.MoveToOuterDisposeScope(), denominator.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope()]);
    }

    /// <summary>The formula's backward by tensor operations: dL/df [B, D] for the upstream gradient and what <see cref="Forward"/> saved.</summary>
    internal static Tensor Gradient(Tensor upstream, IList<Tensor> saved, Tensor? rows, bool cosine, long batch)
    {
        using var scope = NewDisposeScope();
        var n = saved[0];
        var gradient = (upstream + upstream.t()).mm(n);
        if (cosine)
        {
            var along = (gradient * n).sum(1, keepdim: true);

            // Two divisions, not one by their product: for an all-zero row that product underflows to 0.
            gradient = gradient.addcmul_(n, along, value: -1).div_(saved[1]).div_(saved[2]);
        }

        var result = rows is null
            ? gradient
            : zeros(batch, gradient.size(1), dtype: gradient.dtype, device: gradient.device).index_copy_(0, rows, gradient);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// vars: features [B, D] (float32 or float64), kept rows (int64 [M] or null for all), cosine (bool), input scale (0-dim
    /// or null), private gradient (bool).
    /// </summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var features = (Tensor)vars[0];
        var rows = (Tensor?)vars[1];
        bool cosine = (bool)vars[2];
        var inputScale = vars[3] as Tensor;
        var backend = Dispatch.Gram(features, rows?.size(0) ?? features.size(0));
        var (product, saved) = backend.Gram(features, rows, cosine, inputScale);
        ctx.save_for_backward([.. saved, rows!]);
        ctx.save_data(CosineKey, cosine);
        ctx.save_data(BatchKey, features.size(0));
        ctx.save_data(BackendKey, backend);
        ctx.save_data(PrivateGradientKey, (bool)vars[4]);
        return product;
    }

    /// <summary>dL/df [B, D], inside <see cref="BackwardGuard.Run"/>; the upstream gradient made dense in n's dtype.</summary>
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        BackwardGuard.Run(Name, 5, () =>
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var upstream = BackwardGuard.Dense(grad_output, saved[0].dtype);
            if (upstream is null)
            {
                return [null!, null!, null!, null!, null!];
            }

            var backend = (TensorBackend)ctx.get_data(BackendKey);
            // Overwritable only as the engine handed it: a converted copy is this function's own anyway.
            bool overwritable = (bool)ctx.get_data(PrivateGradientKey) || !ReferenceEquals(upstream, grad_output);
            var gradient = backend.GramGradient(upstream, saved, saved[3], (bool)ctx.get_data(CosineKey), (long)ctx.get_data(BatchKey), overwritable);
            return [gradient.MoveToOuterDisposeScope(), null!, null!, null!, null!];
        });
}
