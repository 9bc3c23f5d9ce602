using RankSim.Autograd;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// c = x / s - mean over rows of (x / s) for the kept rows x [M, D] of features [B, D], with s given (the largest
/// magnitude of x, <see cref="SimilarityMatrix.CenterScale"/>), as one custom autograd function of tensor operations
/// (any device). Its backward treats s as a constant: dL/dx = (g - mean over rows of g) / s, scattered into a [B, D]
/// gradient (zero for rows not kept). That is the exact gradient of anything that does not change when c is scaled,
/// which the cosine of c is, when its norm floor is applied in the units of x (eps / s in those of c): use it only there.
/// </summary>
internal sealed class CenterFunction : autograd.SingleTensorFunction<CenterFunction>
{
    public override string Name => nameof(CenterFunction);

    /// <summary>
    /// vars: features [B, D] (float32 or float64), kept rows (int64 [M], distinct, or null for all), the scale s
    /// (0-dim, the features' dtype, not differentiated).
    /// </summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var features = (Tensor)vars[0];
        var rows = vars[1] as Tensor;
        var scale = (Tensor)vars[2];
        using var scope = NewDisposeScope();
        var kept = rows is null ? features.detach() : features.detach().index_select(0, rows);
        var scaled = kept / scale;
        ctx.save_for_backward([scale, rows!]);
        ctx.save_data("batch", features.size(0));
        return scaled.sub_(scaled.mean([0], keepdim: true)).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        BackwardGuard.Run(Name, 3, () =>
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var scale = saved[0];
            var upstream = BackwardGuard.Dense(grad_output, scale.dtype);
            if (upstream is null)
            {
                return [null!, null!, null!];
            }

            var gradient = upstream.sub(upstream.mean([0], keepdim: true)).div_(scale);
            var rows = saved[1];
            if (rows is not null)
            {
                long batch = (long)ctx.get_data("batch");
                gradient = zeros(batch, gradient.size(1), dtype: gradient.dtype, device: gradient.device).index_copy_(0, rows, gradient);
            }

            return [gradient.MoveToOuterDisposeScope(), null!, null!];
        });
}