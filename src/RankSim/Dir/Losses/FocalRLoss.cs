using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Dir;

/// <summary>The error a Focal-R loss modulates.</summary>
public enum FocalRBase
{
    /// <summary>|input - target| (Focal-R L1).</summary>
    L1,

    /// <summary>(input - target)^2 (Focal-R MSE).</summary>
    MSE,
}

/// <summary>The function f that turns |e| into the Focal-R modulation factor f(|e|)^gamma.</summary>
public enum FocalRActivation
{
    /// <summary>f = 2 sigmoid(beta |e|) - 1.</summary>
    Sigmoid,

    /// <summary>f = tanh(beta |e|).</summary>
    Tanh,
}

/// <summary>
/// Focal-R (DIR, Yang et al., ICML 2021, Sec. 4): loss_i = l_i * f(|e_i|)^gamma with l the L1 or squared error, e the error and
/// f = 2 sigmoid(beta |e|) - 1 or tanh(beta |e|); then mean_i w_i loss_i with optional per-sample weights. The reference
/// code's <c>weighted_focal_l1_loss</c> and <c>weighted_focal_mse_loss</c>; functional forms
/// <see cref="ranksim.nn.functional.weighted_focal_l1_loss"/> and <see cref="ranksim.nn.functional.weighted_focal_mse_loss"/>.
/// </summary>
public sealed class FocalRLoss : WeightedLoss
{
    /// <summary>The largest beta accepted, 1e30: it must convert to float32, the dtype half-precision inputs are computed in.</summary>
    public static double MaxBeta => 1e30;

    /// <summary>
    /// The largest gamma accepted, 1000: the gradient of f^gamma carries a factor gamma, which must stay finite in
    /// float32 where f saturates at 1 (the paper uses gamma = 1).
    /// </summary>
    public static double MaxGamma => 1e3;

    /// <summary>Creates the loss.</summary>
    /// <param name="baseLoss">L1 (default) or MSE.</param>
    /// <param name="activation">Sigmoid (default, the reference code's) or tanh.</param>
    /// <param name="beta">Scale of |e| inside f, in (0, <see cref="MaxBeta"/>] (default 0.2, the reference code's).</param>
    /// <param name="gamma">Exponent of the modulation, in [0, <see cref="MaxGamma"/>] (default 1, the reference code's).</param>
    /// <param name="reduction">Mean (default), Sum, or None.</param>
    /// <exception cref="ArgumentOutOfRangeException">An undefined enum value, beta outside (0, <see cref="MaxBeta"/>] or gamma outside [0, <see cref="MaxGamma"/>].</exception>
    public FocalRLoss(
        FocalRBase baseLoss = FocalRBase.L1,
        FocalRActivation activation = FocalRActivation.Sigmoid,
        double beta = 0.2,
        double gamma = 1.0,
        Reduction reduction = Reduction.Mean)
        : base(reduction)
    {
        RequireOptions(baseLoss, activation, beta, gamma);
        BaseLoss = baseLoss;
        Activation = activation;
        Beta = beta;
        Gamma = gamma;
    }

    /// <summary>The modulated error: L1 or MSE.</summary>
    public FocalRBase BaseLoss { get; }

    /// <summary>The modulation function.</summary>
    public FocalRActivation Activation { get; }

    /// <summary>Scale of |e| inside the modulation function.</summary>
    public double Beta { get; }

    /// <summary>Exponent of the modulation.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input, Tensor target, Tensor? weights) =>
        Compute(input, target, weights, BaseLoss, Activation, Beta, Gamma, reduction);

    /// <summary>The formula, shared with the functional forms.</summary>
    internal static Tensor Compute(
        Tensor input, Tensor target, Tensor? weights, FocalRBase baseLoss, FocalRActivation activation, double beta, double gamma, Reduction reduction)
    {
        RequireOptions(baseLoss, activation, beta, gamma);
        WeightedReduction.Validate(input, target, weights, reduction);
        using var scope = NewDisposeScope();
        // float16/bfloat16 predictions are computed in float32 (beta need not fit their range); the loss is returned in their dtype.
        var work = input.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : input.dtype;
        var error = input.to(work) - target.to(work);
        var magnitude = error.abs();
        var elementLoss = baseLoss == FocalRBase.L1 ? magnitude : error.square();
        var scaled = magnitude * beta;
        var modulation = activation == FocalRActivation.Tanh ? scaled.tanh() : scaled.sigmoid() * 2 - 1;

        // m^gamma with gamma < 1 has an infinite derivative at m = 0 (an exact prediction), and 0 * inf is NaN. Clamping m
        // at the dtype's smallest normal value changes no loss (the base loss is 0 there) and gives the true gradient, 0.
        double smallestNormal = modulation.dtype switch
        {
            ScalarType.Float64 => 2.2250738585072014e-308,
            ScalarType.Float16 => 6.103515625e-05,
            _ => 1.1754943508222875e-38,
        };
        var loss = elementLoss * modulation.clamp_min(smallestNormal).pow(gamma);
        return WeightedReduction.Reduce(loss.to(input.dtype), weights, reduction).MoveToOuterDisposeScope();
    }

    private static void RequireOptions(FocalRBase baseLoss, FocalRActivation activation, double beta, double gamma)
    {
        InputValidation.RequireDefined(baseLoss, nameof(baseLoss));
        InputValidation.RequireDefined(activation, nameof(activation));
        if (!double.IsFinite(beta) || beta <= 0 || beta > MaxBeta)
        {
            throw new ArgumentOutOfRangeException(nameof(beta), beta, $"beta must be greater than 0 and at most {MaxBeta:G}.");
        }

        if (!double.IsFinite(gamma) || gamma < 0 || gamma > MaxGamma)
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"gamma must lie in [0, {MaxGamma:G}].");
        }
    }
}
