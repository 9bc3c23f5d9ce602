using RankSim.Autograd;
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
    /// forward ranks and squares, its backward computes dL/dRF and the blackbox gradient together, by the backend
    /// <see cref="Dispatch.Objective"/> picks (a fused CPU kernel for float32 similarities on the CPU, tensor operations elsewhere).
    /// </summary>
    public static Tensor Blackbox(Tensor similarity, LabelRankMatrix labelRanks, double lambda, Reduction reduction, PerturbationScaling scaling)
    {
        using var scope = NewDisposeScope();
        var loss = BlackboxObjectiveFunction.apply(similarity, labelRanks, lambda, reduction, scaling == PerturbationScaling.PerRow);
        return SecondBackwardCheck.Mark(loss).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="Blackbox(Tensor, LabelRankMatrix, double, Reduction, PerturbationScaling)"/> for a given matrix of label ranks [M, M].</summary>
    public static Tensor Blackbox(Tensor similarity, Tensor labelRanks, double lambda, Reduction reduction, PerturbationScaling scaling) =>
        Blackbox(similarity, LabelRankMatrix.Of(labelRanks), lambda, reduction, scaling);

    /// <summary>The objective with soft feature ranks of strength epsilon (<see cref="SoftRank"/>).</summary>
    public static Tensor Soft(Tensor similarity, LabelRankMatrix labelRanks, double regularization, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        var featureRanks = SoftRank.SoftRankFunction.Apply(similarity, regularization, normalized: true);
        return FromRanks(featureRanks, labelRanks.ToMatrix(featureRanks.dtype), reduction).MoveToOuterDisposeScope();
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
    /// The formula's forward by tensor operations: the objective of S [M, M] and label ranks [M, M] of S's dtype under
    /// <paramref name="reduction"/>, and what <see cref="Gradient"/> needs (S, its descending ranks RF, the label ranks and
    /// the rank positions, made once and used again by backward's ranking).
    /// </summary>
    internal static (Tensor Result, Tensor[] Saved) Forward(Tensor similarity, Tensor labelRanks, Reduction reduction)
    {
        using var scope = NewDisposeScope();

        // The sum over anchors of mean_j is the sum of all squares over M: one fused libtorch loss, not four steps.
        var positions = Ranks.Positions(similarity.size(0), similarity.dtype, similarity.device);
        var featureRanks = Ranks.DescendingWith(similarity, positions);
        var result = reduction switch
        {
            Reduction.Sum => nn.functional.mse_loss(featureRanks, labelRanks, Reduction.Sum).div_(similarity.size(0)),
            Reduction.Mean => nn.functional.mse_loss(featureRanks, labelRanks, Reduction.Mean),
            _ => nn.functional.mse_loss(featureRanks, labelRanks, Reduction.None).mean([1]),
        };
        return (result.MoveToOuterDisposeScope(), [similarity, featureRanks.MoveToOuterDisposeScope(), labelRanks, positions.MoveToOuterDisposeScope()]);
    }

    /// <summary>The divisor of the rank gradient: M under Sum and None (per-anchor means), M^2 under Mean.</summary>
    internal static float Divisor(Reduction reduction, long m) => (float)(reduction == Reduction.Mean ? (double)m * m : m);

    /// <summary>
    /// The formula's backward by tensor operations: dL/dS [M, M] for the upstream gradient (dense, S's dtype) and what
    /// <see cref="Forward"/> saved; rows whose upstream gradient is not finite are NaN.
    /// </summary>
    internal static Tensor Gradient(IList<Tensor> saved, Tensor upstream, Reduction reduction, double lambda, bool perRow)
    {
        using var scope = NewDisposeScope();
        var (similarity, featureRanks) = (saved[0], saved[1]);
        long m = similarity.size(0);

        // c_i / (d / 2) in the similarities' dtype, then (RF - RL) times it: the kernel's float operations, in its order.
        var scale = (reduction == Reduction.None ? upstream.reshape(m, 1) : upstream).div(Divisor(reduction, m) / 2);
        var rankGradient = (featureRanks - saved[2]).mul_(scale);

        // A row of g is not all finite exactly when its scale is not finite (|RF - RL| <= 1, and 0 * inf is NaN):
        // scale - scale is NaN for those rows and +0 for the others, without a pass over g.
        var nonFiniteRows = scale.sub(scale);
        var result = perRow
            ? BlackboxRank.GradientPerRow(similarity, rankGradient, featureRanks, lambda, saved[3], nonFiniteRows)
            : BlackboxRank.Gradient(similarity, rankGradient, featureRanks, lambda, saved[3], nonFiniteRows);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The blackbox objective as one custom autograd function, computed by the backend <see cref="Dispatch.Objective"/>
    /// picks (backward uses the one forward used). It saves S, the feature ranks and the label ranks (or what the backend
    /// makes them from).
    /// </summary>
    internal sealed class BlackboxObjectiveFunction : autograd.SingleTensorFunction<BlackboxObjectiveFunction>
    {
        private const string LambdaKey = "lambda";
        private const string ReductionKey = "reduction";
        private const string PerRowKey = "perRow";
        private const string BackendKey = "backend";
        private const string StateKey = "state";

        public override string Name => nameof(BlackboxObjectiveFunction);

        /// <summary>vars: S [M, M], the label ranks (<see cref="LabelRankMatrix"/>), lambda, reduction, per-row perturbation (bool).</summary>
        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var similarity = ((Tensor)vars[0]).detach();
            var backend = Dispatch.Objective(similarity);
            var reduction = (Reduction)vars[3];
            var (result, saved, state) = backend.Objective(similarity, (LabelRankMatrix)vars[1], reduction);
            ctx.save_for_backward([.. saved]);
            ctx.save_data(StateKey, state!);
            ctx.save_data(LambdaKey, (double)vars[2]);
            ctx.save_data(ReductionKey, reduction);
            ctx.save_data(PerRowKey, (bool)vars[4]);
            ctx.save_data(BackendKey, backend);
            return result;
        }

        /// <summary>dL/dS, inside <see cref="BackwardGuard.Run"/>; the upstream gradient made dense in S's dtype.</summary>
        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            BackwardGuard.Run(Name, 5, () =>
            {
                using var scope = NewDisposeScope();
                // Saved detached in forward: nothing here is recorded by autograd.
                var saved = ctx.get_saved_variables();
                var dense = BackwardGuard.Dense(grad_output, saved[0].dtype);
                if (dense is null)
                {
                    return [null!, null!, null!, null!, null!];
                }

                var backend = (TensorBackend)ctx.get_data(BackendKey);
                var gradient = backend.ObjectiveGradient(saved, ctx.get_data(StateKey), dense, (Reduction)ctx.get_data(ReductionKey), (double)ctx.get_data(LambdaKey), (bool)ctx.get_data(PerRowKey));
                return [gradient.MoveToOuterDisposeScope(), null!, null!, null!, null!];
            });
    }
}
