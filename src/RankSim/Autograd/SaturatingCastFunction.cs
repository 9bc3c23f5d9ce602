using static TorchSharp.torch;

namespace RankSim.Autograd;

/// <summary>
/// A float16 tensor cast to float32 whose gradient is cast back saturating: values beyond float16's largest finite
/// value (65504) become +-65504 instead of infinity (NaN stays NaN). A zero feature row's cosine gradient is dL/dn / eps
/// (eps = 1e-12, as in <c>normalize</c>): finite in float32, it would overflow float16 and make every later step of a
/// float16 model skip or diverge.
/// </summary>
internal sealed class SaturatingCastFunction : autograd.SingleTensorFunction<SaturatingCastFunction>
{
    private const double Float16Max = 65504;

    public override string Name => nameof(SaturatingCastFunction);

    /// <summary>vars: a float16 tensor; returns it as float32.</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).to(ScalarType.Float32);

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        BackwardGuard.Run(Name, 1, () =>
        {
            using var scope = NewDisposeScope();
            var upstream = BackwardGuard.Dense(grad_output, ScalarType.Float32);
            return upstream is null ? [null!] : [upstream.clamp(-Float16Max, Float16Max).to(ScalarType.Float16).MoveToOuterDisposeScope()];
        });
}
