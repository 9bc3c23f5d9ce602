using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Dir;

/// <summary>
/// Absolute error with optional per-sample weights, mean_i w_i |input_i - target_i| (DIR, Yang et al., ICML 2021):
/// the reference code's <c>weighted_l1_loss</c>; functional form <see cref="ranksim.nn.functional.weighted_l1_loss"/>.
/// </summary>
public sealed class WeightedL1Loss : WeightedLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">Mean (default), Sum, or None (element-wise losses in the input's shape).</param>
    /// <exception cref="ArgumentOutOfRangeException">An undefined reduction.</exception>
    public WeightedL1Loss(Reduction reduction = Reduction.Mean) : base(reduction)
    {
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input, Tensor target, Tensor? weights) => Compute(input, target, weights, reduction);

    /// <summary>The formula, shared with the functional form.</summary>
    internal static Tensor Compute(Tensor input, Tensor target, Tensor? weights, Reduction reduction)
    {
        WeightedReduction.Validate(input, target, weights, reduction);
        using var scope = NewDisposeScope();
        var loss = (input - target.to(input.dtype)).abs();
        return WeightedReduction.Reduce(loss, weights, reduction).MoveToOuterDisposeScope();
    }
}
