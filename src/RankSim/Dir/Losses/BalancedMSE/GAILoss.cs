using static TorchSharp.torch;

namespace RankSim.Dir;

/// <summary>
/// Balanced MSE with a Gaussian-mixture prior over the training labels (GAI; Ren et al., CVPR 2022, Eq. 6-7), the
/// reference code's <c>GAILoss</c>: loss_i = ((pred_i - y_i)^2 / (2 sigma^2) + 0.5 log sigma^2
/// + logsumexp_k[-0.5 log(var_k + sigma^2) - (pred_i - mean_k)^2 / (2 (var_k + sigma^2)) + log w_k]) * 2 sigma^2,
/// the factor detached, averaged over the batch. Fit the prior with <see cref="GaussianMixture.Fit"/>. Functional form
/// <see cref="ranksim.nn.functional.gai_loss"/>.
/// </summary>
public sealed class GAILoss : BalancedMSELoss
{
    /// <summary>Creates the loss, as the reference's <c>GAILoss(init_noise_sigma, gmm)</c>.</summary>
    /// <param name="prior">Gaussian mixture fitted to the training labels.</param>
    /// <param name="initialNoiseSigma">The noise scale sigma at the start (not the variance), in [1e-15, 1e15] (default 1).</param>
    /// <param name="learnable">Train sigma with the model (default true).</param>
    /// <exception cref="ArgumentNullException">The prior is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">sigma is outside [1e-15, 1e15].</exception>
    public GAILoss(GaussianMixture prior, double initialNoiseSigma = 1.0, bool learnable = true)
        : base(initialNoiseSigma, learnable)
    {
        ArgumentNullException.ThrowIfNull(prior);
        Prior = prior;
    }

    /// <summary>The label prior.</summary>
    public GaussianMixture Prior { get; }

    /// <summary>GAI loss of a batch.</summary>
    /// <param name="input">Predictions [B] or [B, 1], floating.</param>
    /// <param name="target">Targets, one per prediction.</param>
    /// <returns>A 0-dim tensor in the predictions' dtype.</returns>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices that do not fit, NaN or infinite values, or a loss that overflows the dtype.</exception>
    public override Tensor forward(Tensor input, Tensor target)
    {
        ValidatePair(input, target, minimumBatch: 1, multiDimensional: false, nameof(GAILoss));
        using var scope = NewDisposeScope();
        return Formula(input, target, Prior, VarianceFor(input)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The formula for validated inputs and the variance v = sigma^2 (any floating dtype), computed in float64 and returned
    /// in the predictions' dtype. Per sample, (pred - y)^2 / (2 v) + log sum_k w_k N(pred; mu_k, v + v_k) + log(v) / 2 + c
    /// is written without the two logarithms of v that cancel: (pred - y)^2 / (2 v) + log sum_k w_k exp(e_k), with
    /// e_k = -log1p(v_k / v) / 2 - (pred - mu_k)^2 / (2 (v + v_k)) &lt;= 0. Where that sum is near 1 (large sigma: every
    /// e_k near 0), it is taken as log(sum w) + log1p(sum (w_k / sum w) expm1(e_k)), which keeps the small e_k that
    /// the loss, multiplied by 2 v, is made of; elsewhere as a log-sum-exp. Float64 keeps the gradient with respect to
    /// sigma finite over the accepted range (it passes through 1 / sigma^4).
    /// </summary>
    internal static Tensor Formula(Tensor input, Tensor target, GaussianMixture prior, Tensor variance)
    {
        using var scope = NewDisposeScope();
        var pred = input.reshape(-1, 1).to(ScalarType.Float64);
        var y = target.reshape(-1, 1).to(ScalarType.Float64);
        var v = variance.to(ScalarType.Float64);
        var means = tensor(prior.Means.ToArray(), dtype: ScalarType.Float64, device: input.device).unsqueeze(0);
        var spreads = tensor(prior.Variances.ToArray(), dtype: ScalarType.Float64, device: input.device).unsqueeze(0);
        var weights = tensor(prior.Weights.ToArray(), dtype: ScalarType.Float64, device: input.device).unsqueeze(0);
        var weightSum = weights.sum();
        var exponents = (spreads / v).log1p().mul(-0.5) - (pred - means).square() / ((v + spreads) * 2);
        var nearOne = (weights / weightSum * exponents.expm1()).sum(1, keepdim: true);
        var balancing = where(
            nearOne.gt(-0.5),
            nearOne.clamp_min(-0.5).log1p() + weightSum.log(),
            (exponents + weights.log()).logsumexp(1, keepdim: true));
        var loss = (((pred - y).square() / (v * 2) + balancing) * (v.detach() * 2)).mean().to(input.dtype);
        InputValidation.RequireFiniteResult(loss, "loss");
        return loss.MoveToOuterDisposeScope();
    }
}
