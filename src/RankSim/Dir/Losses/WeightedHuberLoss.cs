using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Dir;

/// <summary>
/// Huber loss with optional per-sample weights: for e = |input - target|, 0.5 e^2 / beta where e &lt; beta, else e - 0.5 beta;
/// then mean_i w_i loss_i (DIR, Yang et al., ICML 2021): the reference code's <c>weighted_huber_loss</c>; functional form
/// <see cref="ranksim.nn.functional.weighted_huber_loss"/>.
/// </summary>
public sealed class WeightedHuberLoss : WeightedLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="beta">Threshold between the quadratic and the linear part, &gt; 0 (default 1).</param>
    /// <param name="reduction">Mean (default), Sum, or None.</param>
    /// <exception cref="ArgumentOutOfRangeException">beta not finite and positive, or an undefined reduction.</exception>
    public WeightedHuberLoss(double beta = 1.0, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        RequireBeta(beta);
        Beta = beta;
    }

    /// <summary>Threshold between the quadratic and the linear part.</summary>
    public double Beta { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input, Tensor target, Tensor? weights) => Compute(input, target, weights, Beta, reduction);

    /// <summary>The formula, shared with the functional form.</summary>
    internal static Tensor Compute(Tensor input, Tensor target, Tensor? weights, double beta, Reduction reduction)
    {
        RequireBeta(beta);
        WeightedReduction.Validate(input, target, weights, reduction);
        using var scope = NewDisposeScope();
        var error = (input - target.to(input.dtype)).abs();

        // A beta so small that 0.5 / beta overflows the input's dtype has no representable quadratic part: every error
        // the dtype can tell from 0 is beyond beta, and the loss is error - beta / 2 (whose gradient at 0 is 0, not NaN).
        // The quadratic part is computed as (min(e, beta) sqrt(0.5 / beta))^2: where e is beyond beta, libtorch still
        // differentiates it, and the square's backward (2 x) must not overflow there (0 * inf would be NaN).
        var loss = 0.5 / beta <= LargestFinite(input.dtype)
            ? where(error < beta, error.clamp_max(Math.Min(beta, LargestFinite(input.dtype))).mul(Math.Sqrt(0.5 / beta)).square(), error - 0.5 * beta)
            : error - 0.5 * beta;
        return WeightedReduction.Reduce(loss, weights, reduction).MoveToOuterDisposeScope();
    }

    private static void RequireBeta(double beta)
    {
        if (!double.IsFinite(beta) || beta <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be a finite number greater than 0.");
        }
    }

    private static double LargestFinite(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => 65504,
        ScalarType.BFloat16 => 3.3895313892515355e38,
        ScalarType.Float32 => float.MaxValue,
        _ => double.MaxValue,
    };
}
