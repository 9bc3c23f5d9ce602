using RankSim.Autograd;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// <see cref="GramFunction"/> for float32 features on the CPU: the same formulas, with the row-wise steps (gather and
/// normalise; G + G^T; the normalisation's Jacobian into the full [B, D] gradient) in the managed kernels of
/// <see cref="GramRows"/>; only the two matrix products are libtorch calls. <see cref="CpuKernels.Similarity"/> takes
/// it only where every buffer fits one span.
/// </summary>
internal sealed class GramRowsFunction : autograd.SingleTensorFunction<GramRowsFunction>
{
    private const string CosineKey = "cosine";
    private const string BatchKey = "batch";

    public override string Name => nameof(GramRowsFunction);

    /// <summary>vars: features [B, D] (float32, CPU), kept rows (int64 [M] or null for all), cosine (bool).</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var features = (Tensor)vars[0];
        var rows = (Tensor?)vars[1];
        bool cosine = (bool)vars[2];
        using var scope = NewDisposeScope();
        ctx.save_data(CosineKey, cosine);
        ctx.save_data(BatchKey, features.shape[0]);

        // n is always a new tensor (gathered rows), so nothing of the caller's is saved.
        var (n, denominators, scales) = GramRows.Normalise(RowBlocks.Contiguous(features), rows, cosine);
        ctx.save_for_backward([n.MoveToOuterDisposeScope(), rows!, denominators?.MoveToOuterDisposeScope()!, scales?.MoveToOuterDisposeScope()!]);
        return n.mm(n.t()).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        BackwardGuard.Run(Name, 3, () =>
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var n = saved[0];
            var rows = saved[1];
            bool cosine = (bool)ctx.get_data(CosineKey);
            long batch = (long)ctx.get_data(BatchKey);
            var upstream = BackwardGuard.Dense(grad_output, ScalarType.Float32);
            if (upstream is null)
            {
                return [null!, null!, null!];
            }

            var normalisedGradient = GramRows.SymmetricSum(upstream).mm(n);
            var gradient = GramRows.Gradient(normalisedGradient, n, rows, cosine ? saved[2] : null, cosine ? saved[3] : null, batch);
            return [gradient.MoveToOuterDisposeScope(), null!, null!];
        });
}
