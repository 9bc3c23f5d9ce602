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
    /// The objective with blackbox feature ranks, as one autograd function (<see cref="BlackboxObjectiveFunction"/>): its
    /// forward ranks and squares, its backward computes dL/dRF and the blackbox gradient together, by the CPU primitive
    /// <see cref="FusedObjectiveRows"/> for float32 similarities on the CPU, by tensor operations elsewhere.
    /// </summary>
    public static Tensor Blackbox(Tensor similarity, Tensor labelRanks, double lambda, Reduction reduction, PerturbationScaling scaling)
    {
        using var scope = NewDisposeScope();
        var rl = labelRanks.dtype == similarity.dtype ? labelRanks : labelRanks.to(similarity.dtype);
        var loss = BlackboxObjectiveFunction.apply(similarity, rl, lambda, reduction, scaling == PerturbationScaling.PerRow);
        return SecondBackwardCheck.Mark(loss).MoveToOuterDisposeScope();
    }

    /// <summary>The objective with soft feature ranks of strength epsilon (<see cref="SoftRank"/>).</summary>
    public static Tensor Soft(Tensor similarity, Tensor labelRanks, double regularization, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        return FromRanks(SoftRank.SoftRankFunction.Apply(similarity, regularization, normalized: true), labelRanks, reduction).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per anchor i the loss mean_j (RF_ij - RL_ij)^2 of differentiable feature ranks RF [M, M] and label ranks RL [M, M],
    /// reduced; by tensor operations on every device and path.
    /// </summary>
    public static Tensor FromRanks(Tensor featureRanks, Tensor labelRanks, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        var rl = labelRanks.dtype == featureRanks.dtype ? labelRanks : labelRanks.to(featureRanks.dtype);
        long m = featureRanks.size(0);
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
    /// The blackbox objective as one custom autograd function, with the arithmetic of blackbox ranks
    /// (<see cref="BlackboxRank.BlackboxRankFunction"/>) followed by <see cref="FromRanks"/>, written out. Forward:
    /// RF = rk(S) (descending, index-order ties) and the per-anchor losses mean_j (RF_ij - RL_ij)^2, reduced. Backward, for
    /// the upstream gradient c_i of anchor i's loss (one c for all under Sum and Mean): g_ij = (RF_ij - RL_ij) (c_i / (d / 2))
    /// with d = M (Sum, None) or M^2 (Mean), which is 2 (RF_ij - RL_ij) c_i / d with the factor 2 in the divisor (one
    /// operation fewer; the same values unless c_i / d is subnormal); then dL/dS = (rk(S + lambda_i g) - RF) /
    /// (lambda_i + 1e-8), NaN throughout a row whose g is not all finite; lambda_i = lambda, or with <see cref="PerturbationScaling.PerRow"/> lambda std(s_i) /
    /// mean|g_i| (<see cref="BlackboxRank.RowStrengths"/>). Float32 similarities on the CPU take
    /// <see cref="FusedObjectiveRows"/> (where it <see cref="FusedObjectiveRows.Takes"/> them), which does the same float32
    /// operations row by row; the choice is made in forward and followed by backward.
    /// </summary>
    internal sealed class BlackboxObjectiveFunction : autograd.SingleTensorFunction<BlackboxObjectiveFunction>
    {
        private const string LambdaKey = "lambda";
        private const string ReductionKey = "reduction";
        private const string PerRowKey = "perRow";
        private const string KernelKey = "kernel";

        public override string Name => nameof(BlackboxObjectiveFunction);

        /// <summary>vars: similarities S [M, M] (float32 or float64), label ranks RL [M, M] in S's dtype, lambda, reduction, per-row strengths.</summary>
        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var reduction = (Reduction)vars[3];
            bool kernel = FusedObjectiveRows.Takes((Tensor)vars[0]);

            // Created before this call's scope: they are saved for backward.
            var similarity = kernel ? RowBlocks.Contiguous((Tensor)vars[0]).detach() : ((Tensor)vars[0]).detach();
            var labelRanks = kernel ? RowBlocks.Contiguous((Tensor)vars[1]) : (Tensor)vars[1];
            using var scope = NewDisposeScope();
            Tensor featureRanks, result;
            Tensor? positions = null;
            if (kernel)
            {
                (featureRanks, var perAnchor) = FusedObjectiveRows.Forward(similarity, labelRanks);
                result = reduction switch
                {
                    Reduction.Sum => perAnchor.sum(),
                    Reduction.Mean => perAnchor.mean(),
                    _ => perAnchor,
                };
            }
            else
            {
                // The sum over anchors of mean_j is the sum of all squares over M: one fused libtorch loss, not four steps.
                // The rank positions are made once, saved, and used again by backward's ranking.
                positions = Ranks.Positions(similarity.size(0), similarity.dtype, similarity.device);
                featureRanks = Ranks.DescendingWith(similarity, positions);
                result = reduction switch
                {
                    Reduction.Sum => nn.functional.mse_loss(featureRanks, labelRanks, Reduction.Sum).div_(similarity.size(0)),
                    Reduction.Mean => nn.functional.mse_loss(featureRanks, labelRanks, Reduction.Mean),
                    _ => nn.functional.mse_loss(featureRanks, labelRanks, Reduction.None).mean([1]),
                };
            }

            ctx.save_for_backward([similarity, featureRanks.MoveToOuterDisposeScope(), labelRanks, positions?.MoveToOuterDisposeScope()!]);
            ctx.save_data(LambdaKey, (double)vars[2]);
            ctx.save_data(ReductionKey, reduction);
            ctx.save_data(PerRowKey, (bool)vars[4]);
            ctx.save_data(KernelKey, kernel);
            return result.MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            BackwardGuard.Run(Name, 5, () =>
            {
                using var scope = NewDisposeScope();
                // Saved detached in forward: nothing here is recorded by autograd.
                var saved = ctx.get_saved_variables();
                var similarity = saved[0];
                var dense = BackwardGuard.Dense(grad_output, similarity.dtype);
                if (dense is null)
                {
                    return [null!, null!, null!, null!, null!];
                }

                var reduction = (Reduction)ctx.get_data(ReductionKey);
                double lambda = (double)ctx.get_data(LambdaKey);
                bool perRow = (bool)ctx.get_data(PerRowKey);
                int m = (int)similarity.size(0);
                float divisor = (float)(reduction == Reduction.Mean ? (double)m * m : m);
                if ((bool)ctx.get_data(KernelKey))
                {
                    var gradient = FusedObjectiveRows.Backward(
                        similarity, saved[1], saved[2], RowBlocks.Contiguous(dense.reshape(-1)), reduction == Reduction.None, divisor,
                        lambda, perRow, InputValidation.MaxLambda, BlackboxRank.GradientEpsilon);
                    return [gradient.MoveToOuterDisposeScope(), null!, null!, null!, null!];
                }

                // c_i / (d / 2) in the similarities' dtype, then (RF - RL) times it: the kernel's float operations, in its order.
                var featureRanks = saved[1];
                var scale = (reduction == Reduction.None ? dense.reshape(m, 1) : dense).div(divisor / 2);
                var rankGradient = (featureRanks - saved[2]).mul_(scale);

                // A row of g is not all finite exactly when its scale is not finite (|RF - RL| <= 1, and 0 * inf is NaN):
                // scale - scale is NaN for those rows and +0 for the others, without a pass over g.
                var nonFiniteRows = scale.sub(scale);
                var result = perRow
                    ? BlackboxRank.GradientPerRow(similarity, rankGradient, featureRanks, lambda, saved[3], nonFiniteRows)
                    : BlackboxRank.Gradient(similarity, rankGradient, featureRanks, lambda, saved[3], nonFiniteRows);
                return [result.MoveToOuterDisposeScope(), null!, null!, null!, null!];
            });
    }
}
