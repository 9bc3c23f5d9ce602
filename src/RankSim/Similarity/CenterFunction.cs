using RankSim.Autograd;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// c = x / s - mean over rows of (x / s) for the kept rows x [M, D] of features [B, D], s the largest magnitude of x, as
/// one custom autograd function of tensor operations (any device). Its backward treats s as a constant: dL/dx =
/// (g - mean over rows of g) / s, scattered into a [B, D] gradient (zero for rows not kept). That is the exact gradient
/// of anything that does not change when c is scaled, which the cosine of c is: use it only there.
/// </summary>
internal sealed class CenterFunction : autograd.SingleTensorFunction<CenterFunction>
{
    public override string Name => nameof(CenterFunction);

    /// <summary>vars: features [B, D] (float32 or float64), kept rows (int64 [M], distinct, or null for all).</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var features = (Tensor)vars[0];
        var rows = vars[1] as Tensor;
        using var scope = NewDisposeScope();
        var kept = rows is null ? features.detach() : features.detach().index_select(0, rows);
        double smallestNormal = kept.dtype == ScalarType.Float64 ? 2.2250738585072014e-308 : 1.1754943508222875e-38;
        var scale = linalg.vector_norm(kept, double.PositiveInfinity).clamp_min_(smallestNormal);
        var scaled = kept / scale;
        ctx.save_for_backward([scale.MoveToOuterDisposeScope(), rows!]);
        ctx.save_data("batch", features.size(0));
        return scaled.sub_(scaled.mean([0], keepdim: true)).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        BackwardGuard.Run(Name, 2, () =>
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var scale = saved[0];
            var upstream = BackwardGuard.Dense(grad_output, scale.dtype);
            if (upstream is null)
            {
                return [null!, null!];
            }

            var gradient = upstream.sub(upstream.mean([0], keepdim: true)).div_(scale);
            var rows = saved[1];
            if (rows is not null)
            {
                long batch = (long)ctx.get_data("batch");
                gradient = zeros(batch, gradient.size(1), dtype: gradient.dtype, device: gradient.device).index_copy_(0, rows, gradient);
            }

            return [gradient.MoveToOuterDisposeScope(), null!];
        });
}