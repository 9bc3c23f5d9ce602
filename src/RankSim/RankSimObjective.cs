using RankSim.Autograd;
using RankSim.Cpu;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>
/// The RankSim objective (Gong, Mori, Tung, ICML 2022, Eq. 3) for feature similarities S [M, M] and the label ranks
/// RL [M, M]: RF = rk(S), differentiable by blackbox ranks or soft ranks, then per anchor i the loss
/// mean_j (RF_ij - RL_ij)^2, reduced (sum over anchors = sum of all squares / M; mean over anchors = mean of all;
/// none = the per-anchor losses [M]).
/// </summary>
internal static class RankSimObjective
{
    /// <summary>
    /// The objective with blackbox feature ranks: fused into one autograd function (<see cref="FusedObjectiveFunction"/>)
    /// for float32 similarities on the CPU where <see cref="FusedObjectiveRows.Takes"/> says so, else
    /// <see cref="Reference"/>.
    /// </summary>
    public static Tensor Blackbox(Tensor similarity, Tensor labelRanks, double lambda, Reduction reduction, PerturbationScaling scaling) =>
        FusedObjectiveRows.Takes(similarity)
            ? FusedObjectiveFunction.Apply(similarity, labelRanks, lambda, reduction, scaling)
            : Reference(similarity, labelRanks, lambda, reduction, scaling);

    /// <summary>The objective with soft feature ranks of strength epsilon (<see cref="SoftRank"/>).</summary>
    public static Tensor Soft(Tensor similarity, Tensor labelRanks, double regularization, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        return FromRanks(SoftRank.SoftRankFunction.Apply(similarity, regularization), labelRanks, reduction).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The blackbox objective composed of <see cref="BlackboxRank.BlackboxRankFunction"/> and <see cref="FromRanks"/>:
    /// what runs on every device but the fused CPU path, and the reference that path is tested against.
    /// </summary>
    public static Tensor Reference(Tensor similarity, Tensor labelRanks, double lambda, Reduction reduction, PerturbationScaling scaling)
    {
        using var scope = NewDisposeScope();
        var featureRanks = BlackboxRank.BlackboxRankFunction.Apply(similarity, lambda, scaling == PerturbationScaling.PerRow);
        return FromRanks(featureRanks, labelRanks, reduction).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per anchor i the loss mean_j (RF_ij - RL_ij)^2 of differentiable feature ranks RF [M, M] and label ranks RL [M, M],
    /// reduced; by tensor operations on every device and path.
    /// </summary>
    public static Tensor FromRanks(Tensor featureRanks, Tensor labelRanks, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        var rl = labelRanks.dtype == featureRanks.dtype ? labelRanks : labelRanks.to(featureRanks.dtype);
        long m = featureRanks.shape[0];
        var loss = reduction switch
        {
            Reduction.Sum => nn.functional.mse_loss(featureRanks, rl, Reduction.Sum).div(m),
            Reduction.Mean => nn.functional.mse_loss(featureRanks, rl, Reduction.Mean),
            _ => nn.functional.mse_loss(featureRanks, rl, Reduction.None).mean([1]),
        };

        // libtorch's mean and sum backward cannot take a sparse upstream gradient; the fused CPU function can.
        return DenseGradientFunction.apply(loss).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The blackbox objective as one custom autograd function over the CPU primitive <see cref="FusedObjectiveRows"/>:
    /// forward ranks and squares row by row, backward computes dL/dRF and the blackbox gradient in the same pass over
    /// each row, with the arithmetic of <see cref="Reference"/>.
    /// </summary>
    internal sealed class FusedObjectiveFunction : autograd.SingleTensorFunction<FusedObjectiveFunction>
    {
        private const string LambdaKey = "lambda";
        private const string ReductionKey = "reduction";
        private const string PerRowKey = "perRow";

        public override string Name => nameof(FusedObjectiveFunction);

        /// <summary>The loss for similarities S [M, M] (float32, CPU) and label ranks RL [M, M]; see <see cref="RankSimLoss"/> for the reductions.</summary>
        public static Tensor Apply(Tensor similarity, Tensor labelRanks, double lambda, Reduction reduction, PerturbationScaling scaling)
        {
            using var scope = NewDisposeScope();
            var loss = apply(similarity, RowBlocks.Contiguous(labelRanks.to(ScalarType.Float32)), lambda, reduction, scaling == PerturbationScaling.PerRow);
            return SecondBackwardCheck.Mark(loss).MoveToOuterDisposeScope();
        }

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var similarity = RowBlocks.Contiguous((Tensor)vars[0]);
            var labelRanks = (Tensor)vars[1];
            var reduction = (Reduction)vars[3];
            using var scope = NewDisposeScope();
            var (featureRanks, perAnchor) = FusedObjectiveRows.Forward(similarity, labelRanks);
            ctx.save_for_backward([similarity, featureRanks.MoveToOuterDisposeScope(), labelRanks]);
            ctx.save_data(LambdaKey, (double)vars[2]);
            ctx.save_data(ReductionKey, reduction);
            ctx.save_data(PerRowKey, (bool)vars[4]);
            var result = reduction switch
            {
                Reduction.Sum => perAnchor.sum(),
                Reduction.Mean => perAnchor.mean(),
                _ => perAnchor,
            };
            return result.MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            BackwardGuard.Run(Name, 5, () =>
            {
                using var scope = NewDisposeScope();
                var saved = ctx.get_saved_variables();
                var dense = BackwardGuard.Dense(grad_output, ScalarType.Float32);
                if (dense is null)
                {
                    return [null!, null!, null!, null!, null!];
                }

                // c_i / M for every anchor: the upstream gradient of anchor i's loss mean_j (.)^2 (one c for all under Sum and
                // Mean), over M, divided in float32 as libtorch divides a float32 tensor by a number.
                var reduction = (Reduction)ctx.get_data(ReductionKey);
                int m = (int)saved[0].shape[0];
                float divisor = (float)(reduction == Reduction.Mean ? (double)m * m : m);
                var gradient = FusedObjectiveRows.Backward(
                    saved[0], saved[1], saved[2], RowBlocks.Contiguous(dense.reshape(-1)), reduction == Reduction.None, divisor,
                    (double)ctx.get_data(LambdaKey), (bool)ctx.get_data(PerRowKey), InputValidation.MaxLambda, BlackboxRank.GradientEpsilon);
                return [gradient.MoveToOuterDisposeScope(), null!, null!, null!, null!];
            });
    }
}
