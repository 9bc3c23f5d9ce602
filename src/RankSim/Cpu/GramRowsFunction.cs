using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// <see cref="GramFunction"/> for float32 features on the CPU: the same formulas, with the row-wise steps (gather and
/// normalize; G + G^T; the normalization's Jacobian into the full [B, D] gradient) in the managed kernels of
/// <see cref="GramRows"/>; only the two matrix products are libtorch calls. <see cref="CpuKernels.Similarity"/> takes
/// it only where every buffer fits one span.
/// </summary>
internal sealed class GramRowsFunction : autograd.SingleTensorFunction<GramRowsFunction>
{
    public override string Name => nameof(GramRowsFunction);

    /// <summary>vars: features [B, D] (float32, CPU), kept rows (int64 [M] or null for all), cosine (bool).</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) =>
        GramFunction.Forward(ctx, vars, (features, rows, cosine) =>
        {
            // n is always a new tensor (gathered rows), so nothing of the caller's is saved.
            var (n, denominators, scales) = GramRows.Normalize(RowBlocks.Contiguous(features), rows, cosine);
            ctx.save_for_backward([n.MoveToOuterDisposeScope(), rows!, denominators?.MoveToOuterDisposeScope()!, scales?.MoveToOuterDisposeScope()!]);
            return n.mm(n.t());
        });

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        GramFunction.Backward(ctx, grad_output, Name, _ => ScalarType.Float32, (upstream, saved, cosine, batch) =>
        {
            var n = saved[0];
            var normalizedGradient = GramRows.SymmetricSum(upstream).mm(n);
            return GramRows.Gradient(normalizedGradient, n, saved[1], cosine ? saved[2] : null, cosine ? saved[3] : null, batch);
        });
}
