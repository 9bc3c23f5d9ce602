using RankSim.Autograd;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// c = x / s - mean over rows of (x / s) for the ranked rows x [M, D], s the largest magnitude of x, as one custom
/// autograd function of tensor operations (any device): the input of <see cref="FeatureSimilarity.CenteredCosine"/>.
/// Dividing by s first keeps the mean and the differences from overflowing, even for features near the dtype's limit.
/// Its backward treats s as a constant: dL/dx = (g - mean over rows of g) / s. That is the exact gradient of anything
/// that does not change when c is scaled, which the cosine of c is: use it only there.
/// </summary>
internal sealed class CenterFunction : autograd.SingleTensorFunction<CenterFunction>
{
    public override string Name => nameof(CenterFunction);

    /// <summary>vars: the ranked rows [M, D] (float32 or float64).</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        using var scope = NewDisposeScope();
        var kept = ((Tensor)vars[0]).detach();
        double smallestNormal = kept.dtype == ScalarType.Float64 ? 2.2250738585072014e-308 : 1.1754943508222875e-38;
        var scale = linalg.vector_norm(kept, double.PositiveInfinity).clamp_min_(smallestNormal);
        var scaled = kept / scale;
        ctx.save_for_backward([scale.MoveToOuterDisposeScope()]);
        return scaled.sub_(scaled.mean([0], keepdim: true)).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        BackwardGuard.Run(Name, 1, () =>
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var scale = saved[0];
            var upstream = BackwardGuard.Dense(grad_output, scale.dtype);
            if (upstream is null)
            {
                return [null!];
            }

            return [upstream.sub(upstream.mean([0], keepdim: true)).div_(scale).MoveToOuterDisposeScope()];
        });
}