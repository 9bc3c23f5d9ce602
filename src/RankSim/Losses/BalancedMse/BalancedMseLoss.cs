using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>
/// Common part of the Balanced MSE losses (Ren et al., "Balanced MSE for Imbalanced Visual Regression", CVPR 2022):
/// the noise variance sigma^2, fixed or learnable. Learnable, it is held as the parameter <c>noise_sigma</c>
/// (sigma^2 = noise_sigma^2, so it stays non-negative); add the loss's <c>parameters()</c> to the optimizer. The
/// paper's code trains it with its own learning rate, 1e-2, in a second parameter group:
/// <code>
/// var optimizer = optim.Adam(new List&lt;Modules.Adam.ParamGroup&gt;
/// {
///     new(model.parameters(), lr: 1e-3),
///     new(bmc.parameters(), lr: 1e-2),
/// });
/// </code>
/// </summary>
public abstract class BalancedMseLoss : Loss<Tensor, Tensor, Tensor>
{
    private readonly Tensor noise_sigma;

    /// <summary>Creates the noise variance.</summary>
    /// <param name="initialNoiseVariance">sigma^2 at the start, &gt; 0.</param>
    /// <param name="learnable">Whether sigma^2 is a trainable parameter.</param>
    /// <exception cref="ArgumentOutOfRangeException">The variance is not in [<see cref="MinNoiseVariance"/>, <see cref="MaxNoiseVariance"/>].</exception>
    private protected BalancedMseLoss(double initialNoiseVariance, bool learnable) : base(Reduction.Mean)
    {
        if (!double.IsFinite(initialNoiseVariance) || initialNoiseVariance < MinNoiseVariance || initialNoiseVariance > MaxNoiseVariance)
        {
            throw new ArgumentOutOfRangeException(
                nameof(initialNoiseVariance), initialNoiseVariance,
                $"The noise variance must lie in [{MinNoiseVariance:G}, {MaxNoiseVariance:G}]: it is kept as a float32 sigma, whose square must be a normal float32 number.");
        }

        var sigma = tensor(Math.Sqrt(initialNoiseVariance), dtype: ScalarType.Float32);
        noise_sigma = learnable ? new Parameter(sigma) : sigma;
        Learnable = learnable;
        RegisterComponents();
    }

    /// <summary>The smallest noise variance accepted, 1e-30 (sigma = 1e-15 in float32).</summary>
    public const double MinNoiseVariance = 1e-30;

    /// <summary>The largest noise variance accepted, 1e30 (sigma = 1e15 in float32).</summary>
    public const double MaxNoiseVariance = 1e30;

    /// <summary>Whether sigma^2 is trained.</summary>
    public bool Learnable { get; }

    /// <summary>The current sigma^2 (a 0-dim tensor, differentiable when learnable).</summary>
    public Tensor NoiseVariance => noise_sigma.square();

    /// <summary>Checks a prediction/target pair: the same number of samples, [B] or [B, 1], floating predictions, one device.</summary>
    private protected void Validate(Tensor input, Tensor target, long minimumBatch)
    {
        InputValidation.RequireLive(input, nameof(input));
        InputValidation.RequireLive(target, nameof(target));
        InputValidation.RequireFloatingPoint(input, nameof(input));
        InputValidation.RequireRealNumber(target, nameof(target));
        if (input.dim() > 2 || (input.dim() == 2 && input.shape[1] != 1) || input.dim() == 0)
        {
            throw new ArgumentException($"input must be [B] or [B, 1]; got {InputValidation.Shape(input)}.", nameof(input));
        }

        if (target.numel() != input.numel() || target.dim() > 2)
        {
            throw new ArgumentException(
                $"target must hold one value per prediction ({input.numel()}); got {InputValidation.Shape(target)}.", nameof(target));
        }

        if (input.numel() < minimumBatch)
        {
            throw new ArgumentException(
                $"{GetType().Name} needs a batch of at least {minimumBatch}; got {input.numel()}.", nameof(input));
        }

        InputValidation.RequireData(input, nameof(input));
        InputValidation.RequireData(target, nameof(target));
        InputValidation.RequireSameDevice(input, nameof(input), target, nameof(target));
        InputValidation.RequireFinite(input, nameof(input));
        InputValidation.RequireFinite(target, nameof(target));
        InputValidation.RequireSameDevice(noise_sigma, "the noise parameter", input, nameof(input));
    }

    /// <summary>sigma^2 in the prediction's dtype, and its detached copy for the 2 sigma^2 loss factor.</summary>
    private protected (Tensor Variance, Tensor Factor) Variance(Tensor like)
    {
        var variance = noise_sigma.to(like.dtype).square();
        return (variance, variance.detach() * 2);
    }
}
