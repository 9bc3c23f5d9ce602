using TorchSharp;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>Mean absolute error with optional per-sample weights: mean_i w_i |input_i - target_i| (DIR, ICML 2021).</summary>
/// <remarks>Create with the reduction (default Mean); call with (input, target, weights or null).</remarks>
public sealed class WeightedL1Loss : Loss<Tensor, Tensor, Tensor?, Tensor>
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">Mean (default), Sum, or None (element-wise losses in the input's shape).</param>
    public WeightedL1Loss(Reduction reduction = Reduction.Mean) : base(reduction) => WeightedReduction.RequireReduction(reduction);

    /// <summary>Weighted absolute error.</summary>
    /// <param name="input">Predictions [B] or [B, ...], floating.</param>
    /// <param name="target">Targets of the same shape.</param>
    /// <param name="weights">Per-sample weights [B] (or one per element), or null for unweighted.</param>
    /// <exception cref="ArgumentException">
    /// Shapes, dtypes or devices that do not fit, NaN or infinite values, or a loss that overflows the dtype.
    /// </exception>
    public override Tensor forward(Tensor input, Tensor target, Tensor? weights)
    {
        WeightedReduction.Validate(input, target, weights);
        using var scope = NewDisposeScope();
        var loss = (input - target.to(input.dtype)).abs();
        return WeightedReduction.Reduce(loss, weights, reduction).MoveToOuterDisposeScope();
    }
}
