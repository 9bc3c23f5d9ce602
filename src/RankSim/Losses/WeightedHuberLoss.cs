using TorchSharp;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>
/// Huber loss with optional per-sample weights: for e = |input - target|, 0.5 e^2 / beta where e &lt; beta, else e - 0.5 beta;
/// then mean_i w_i loss_i (DIR, ICML 2021).
/// </summary>
public sealed class WeightedHuberLoss : Loss<Tensor, Tensor, Tensor?, Tensor>
{
    /// <summary>Creates the loss.</summary>
    /// <param name="beta">Threshold between the quadratic and the linear part, &gt; 0 (default 1).</param>
    /// <param name="reduction">Mean (default), Sum, or None.</param>
    /// <exception cref="ArgumentOutOfRangeException">beta not finite and positive.</exception>
    public WeightedHuberLoss(double beta = 1.0, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        WeightedReduction.RequireReduction(reduction);
        if (!double.IsFinite(beta) || beta <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be a finite number greater than 0.");
        }

        Beta = beta;
    }

    /// <summary>Threshold between the quadratic and the linear part.</summary>
    public double Beta { get; }

    /// <summary>Weighted Huber loss.</summary>
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
        var error = (input - target.to(input.dtype)).abs();

        // A beta so small that 0.5 / beta overflows the input's dtype has no representable quadratic part: every error
        // the dtype can tell from 0 is beyond beta, and the loss is error - beta / 2 (whose gradient at 0 is 0, not NaN).
        var loss = 0.5 / Beta <= LargestFinite(input.dtype)
            ? where(error < Beta, error.square() * (0.5 / Beta), error - 0.5 * Beta)
            : error - 0.5 * Beta;
        return WeightedReduction.Reduce(loss, weights, reduction).MoveToOuterDisposeScope();
    }

    private static double LargestFinite(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => 65504,
        ScalarType.BFloat16 => 3.3895313892515355e38,
        ScalarType.Float32 => float.MaxValue,
        _ => double.MaxValue,
    };
}
