using static TorchSharp.torch;

namespace RankSim.Autograd;

/// <summary>
/// Identity in forward (a copy, so that no input is returned as-is); in backward, hands on the upstream gradient as a
/// dense tensor. Placed at the output of a computation whose last step is a libtorch operation that cannot take a
/// sparse gradient (e.g. <c>mean</c>'s backward expands it), so that <c>backward([grad.to_sparse()])</c> gives the
/// same result on every path.
/// </summary>
internal sealed class DenseGradientFunction : autograd.SingleTensorFunction<DenseGradientFunction>
{
    public override string Name => nameof(DenseGradientFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        ctx.save_data("dtype", input.dtype);
        return input.clone();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        BackwardGuard.Run(Name, 1, () => [BackwardGuard.Dense(grad_output, (ScalarType)ctx.get_data("dtype"))!]);
}
