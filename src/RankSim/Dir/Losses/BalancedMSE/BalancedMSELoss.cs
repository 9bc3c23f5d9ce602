using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Dir;

/// <summary>
/// What the Balanced MSE losses (Ren et al., "Balanced MSE for Imbalanced Visual Regression", CVPR 2022;
/// <see cref="BMCLoss"/> and <see cref="GAILoss"/>) share: the noise scale sigma, fixed or learnable, held as the
/// parameter <c>noise_sigma</c> exactly as in the reference code (the noise variance is sigma^2, so it stays positive).
/// Learnable, add the loss's <c>parameters()</c> to the optimizer; the paper's code trains it with its own learning rate,
/// 1e-2, in a second parameter group:
/// <code>
/// var optimizer = optim.Adam(new List&lt;Modules.Adam.ParamGroup&gt;
/// {
///     new(model.parameters(), lr: 1e-3),
///     new(bmc.parameters(), lr: 1e-2),
/// });
/// </code>
/// </summary>
public abstract class BalancedMSELoss : Loss<Tensor, Tensor, Tensor>
{
    private readonly Tensor noise_sigma;

    private protected BalancedMSELoss(double initialNoiseSigma, bool learnable) : base(Reduction.Mean)
    {
        if (!double.IsFinite(initialNoiseSigma) || initialNoiseSigma < MinNoiseSigma || initialNoiseSigma > MaxNoiseSigma)
        {
            throw new ArgumentOutOfRangeException(
                nameof(initialNoiseSigma), initialNoiseSigma,
                $"The noise scale sigma (not the variance sigma^2) must lie in [{MinNoiseSigma:G}, {MaxNoiseSigma:G}]: it is kept in float32, and sigma^2 must be a normal float32 number.");
        }

        var sigma = tensor(initialNoiseSigma, dtype: ScalarType.Float32);
        noise_sigma = learnable ? new Parameter(sigma) : sigma;
        Learnable = learnable;
        RegisterComponents();
    }

    /// <summary>The smallest initial sigma accepted, 1e-15 (sigma^2 = 1e-30).</summary>
    public static double MinNoiseSigma => 1e-15;

    /// <summary>The largest initial sigma accepted, 1e15 (sigma^2 = 1e30).</summary>
    public static double MaxNoiseSigma => 1e15;

    /// <summary>Whether sigma is trained.</summary>
    public bool Learnable { get; }

    /// <summary>The current noise scale sigma: a float32 0-dim tensor, the trainable parameter when <see cref="Learnable"/>.</summary>
    public Tensor NoiseSigma => noise_sigma;

    /// <summary>The current noise variance sigma^2 (a float32 0-dim tensor, differentiable when learnable).</summary>
    public Tensor NoiseVariance => noise_sigma.square();

    /// <summary>
    /// sigma^2 in float64 (the formulas' working dtype), after checking that the parameter is on the prediction's device.
    /// </summary>
    private protected Tensor VarianceFor(Tensor input)
    {
        InputValidation.RequireSameDevice(noise_sigma, "the noise parameter", input, nameof(input));
        return noise_sigma.to(ScalarType.Float64).square();
    }

    /// <summary>
    /// Checks a prediction/target pair: floating predictions [B] or [B, 1] (or [B, K] where
    /// <paramref name="multiDimensional"/>), a target with the same values per sample, at least
    /// <paramref name="minimumBatch"/> samples, one device, finite values.
    /// </summary>
    internal static void ValidatePair(Tensor input, Tensor target, long minimumBatch, bool multiDimensional, string loss)
    {
        InputValidation.RequireLive(input, nameof(input));
        InputValidation.RequireLive(target, nameof(target));
        InputValidation.RequireFloatingPoint(input, nameof(input));
        InputValidation.RequireRealNumber(target, nameof(target));
        bool columns = input.dim() == 2 && input.size(1) != 1;
        if (input.dim() is 0 or > 2 || (columns && !multiDimensional))
        {
            string expected = multiDimensional ? "[B], [B, 1] or [B, K]" : "[B] or [B, 1]";
            throw new ArgumentException($"input must be {expected}; got {InputValidation.Shape(input)}.", nameof(input));
        }

        if (columns ? !target.shape.SequenceEqual(input.shape) : target.numel() != input.numel() || target.dim() > 2)
        {
            throw new ArgumentException(
                $"target must hold the same values per sample as input {InputValidation.Shape(input)}; got {InputValidation.Shape(target)}.", nameof(target));
        }

        if (input.size(0) < minimumBatch)
        {
            throw new ArgumentException($"{loss} needs a batch of at least {minimumBatch}; got {input.size(0)}.", nameof(input));
        }

        InputValidation.RequireData(input, nameof(input));
        InputValidation.RequireData(target, nameof(target));
        InputValidation.RequireSameDevice(input, nameof(input), target, nameof(target));
        InputValidation.RequireFinite(input, nameof(input));
        InputValidation.RequireFinite(target, nameof(target));
    }

    /// <summary>Checks a noise variance given to a functional form: one floating value, finite and positive, on the input's device.</summary>
    internal static void ValidateNoiseVariance(Tensor noiseVariance, Tensor input)
    {
        const string name = "noise_var";
        InputValidation.RequireLive(noiseVariance, name);
        InputValidation.RequireFloatingPoint(noiseVariance, name);
        if (noiseVariance.numel() != 1)
        {
            throw new ArgumentException($"{name} must hold one value (sigma^2); got shape {InputValidation.Shape(noiseVariance)}.", name);
        }

        InputValidation.RequireData(noiseVariance, name);
        InputValidation.RequireSameDevice(noiseVariance, name, input, nameof(input));
        double value = noiseVariance.detach().to(ScalarType.Float64).item<double>();
        if (!double.IsFinite(value) || value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} is the noise variance sigma^2 and must be finite and greater than 0.");
        }
    }
}
