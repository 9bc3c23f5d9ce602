using RankSim.Autograd;
using RankSim.Cpu;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>
/// The RankSim objective (Gong, Mori, Tung, ICML 2022, Eq. 3) for feature similarities S [M, M] and the label ranks
/// RL [M, M]: RF = BlackboxRank(S, lambda), then per anchor i the loss mean_j (RF_ij - RL_ij)^2, reduced (sum over
/// anchors = sum of all squares / M; mean over anchors = mean of all; none = the per-anchor losses [M]).
/// </summary>
internal static class RankSimObjective
{
    /// <summary>
    /// The objective by tensor operations, on any device: the reference the CPU kernel
    /// (<see cref="FusedObjectiveFunction"/>) is tested against, and what runs everywhere else.
    /// </summary>
    public static Tensor Reference(Tensor similarity, Tensor labelRanks, double lambda, Reduction reduction, PerturbationScaling scaling)
    {
        using var scope = NewDisposeScope();
        var featureRanks = BlackboxRank.BlackboxRankFunction.apply(similarity, lambda, scaling == PerturbationScaling.PerRow);
        return FromRanks(featureRanks, labelRanks, reduction).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per anchor i the loss mean_j (RF_ij - RL_ij)^2 of differentiable feature ranks RF [M, M] and label ranks RL [M, M],
    /// reduced; by tensor operations on every device and path (the blackbox reference and the soft ranks use it).
    /// </summary>
    public static Tensor FromRanks(Tensor featureRanks, Tensor labelRanks, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        var rl = labelRanks.to(featureRanks.dtype);
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
}
