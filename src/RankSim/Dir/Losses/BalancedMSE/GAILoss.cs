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

    /// <summary>The formula for validated inputs and the variance in the predictions' dtype.</summary>
    internal static Tensor Formula(Tensor input, Tensor target, GaussianMixture prior, Tensor variance)
    {
        using var scope = NewDisposeScope();
        var pred = input.reshape(-1, 1);
        var y = target.reshape(-1, 1).to(input.dtype);
        var means = tensor(prior.Means.ToArray(), dtype: input.dtype, device: input.device).unsqueeze(0);
        var componentVariances = tensor(prior.Variances.ToArray(), dtype: input.dtype, device: input.device).unsqueeze(0) + variance;
        var logWeights = tensor(prior.Weights.ToArray(), dtype: input.dtype, device: input.device).log().unsqueeze(0);

        var mse = (pred - y).square() / (variance * 2) + variance.log() * 0.5;
        var balancing = (componentVariances.log() * -0.5 - (pred - means).square() / (componentVariances * 2) + logWeights).logsumexp(1, keepdim: true);
        var loss = ((mse + balancing) * (variance.detach() * 2)).mean();
        InputValidation.RequireFiniteResult(loss, "loss");
        return loss.MoveToOuterDisposeScope();
    }
}
