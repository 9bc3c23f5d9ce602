using TorchSharp;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Dir;

/// <summary>
/// A regression loss with optional per-sample weights (the DIR losses: <see cref="WeightedMSELoss"/>,
/// <see cref="WeightedL1Loss"/>, <see cref="WeightedHuberLoss"/>, <see cref="FocalRLoss"/>). It is a
/// <see cref="Loss{T1, T2, TResult}"/> of (input, target), usable wherever TorchSharp expects one; the weighted form is
/// <c>call(input, target, weights)</c>, for example with the weights of <see cref="LabelWeights.Lookup"/>.
/// </summary>
public abstract class WeightedLoss : Loss<Tensor, Tensor, Tensor>
{
    private protected WeightedLoss(Reduction reduction) : base(reduction) => InputValidation.RequireDefined(reduction, nameof(reduction));

    /// <summary>How the element-wise losses are reduced: Mean (the default of every weighted loss), Sum, or None.</summary>
    public Reduction Reduction => reduction;

    /// <summary>The unweighted loss (every weight 1).</summary>
    /// <param name="input">Predictions [B] or [B, ...], floating.</param>
    /// <param name="target">Targets of the same shape.</param>
    /// <returns>A 0-dim tensor under Mean and Sum; the element-wise losses in the input's shape under None.</returns>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices that do not fit, NaN or infinite values, or a loss that overflows the dtype.</exception>
    public override Tensor forward(Tensor input, Tensor target) => forward(input, target, null);

    /// <summary>The weighted loss.</summary>
    /// <param name="input">Predictions [B] or [B, ...], floating.</param>
    /// <param name="target">Targets of the same shape.</param>
    /// <param name="weights">Per-sample weights [B] (or one per element), or null for unweighted.</param>
    /// <returns>A 0-dim tensor under Mean and Sum; the weighted element-wise losses in the input's shape under None.</returns>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices that do not fit, NaN or infinite values, or a loss that overflows the dtype.</exception>
    public abstract Tensor forward(Tensor input, Tensor target, Tensor? weights);

    /// <summary>The weighted loss, as <see cref="forward(Tensor, Tensor, Tensor?)"/>; <c>call(input, target)</c> is the unweighted one.</summary>
    /// <param name="input">Predictions [B] or [B, ...], floating.</param>
    /// <param name="target">Targets of the same shape.</param>
    /// <param name="weights">Per-sample weights [B] (or one per element), or null for unweighted.</param>
    /// <returns>A 0-dim tensor under Mean and Sum; the weighted element-wise losses in the input's shape under None.</returns>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices that do not fit, NaN or infinite values, or a loss that overflows the dtype.</exception>
    public Tensor call(Tensor input, Tensor target, Tensor? weights) => forward(input, target, weights);
}
