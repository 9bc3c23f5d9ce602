using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Balanced MSE with a Gaussian-mixture prior over the training labels (GAI; Ren et al., CVPR 2022, Eq. 6-7):
/// loss_i = ((pred_i - y_i)^2 / (2 sigma^2) + 0.5 log sigma^2
/// + logsumexp_k[-0.5 log(var_k + sigma^2) - (pred_i - mean_k)^2 / (2 (var_k + sigma^2)) + log w_k]) * 2 sigma^2,
/// the factor detached, averaged over the batch. Fit the prior with <see cref="GaussianMixture.Fit"/>.
/// </summary>
public sealed class GaiLoss : BalancedMseLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="prior">Gaussian mixture fitted to the training labels.</param>
    /// <param name="initialNoiseVariance">sigma^2 at the start, &gt; 0 (default 1).</param>
    /// <param name="learnable">Train sigma^2 with the model (default true).</param>
    public GaiLoss(GaussianMixture prior, double initialNoiseVariance = 1.0, bool learnable = true)
        : base(initialNoiseVariance, learnable)
    {
        ArgumentNullException.ThrowIfNull(prior);
        Prior = prior;
    }

    /// <summary>The label prior.</summary>
    public GaussianMixture Prior { get; }

    /// <summary>GAI loss of a batch.</summary>
    /// <param name="input">Predictions [B] or [B, 1].</param>
    /// <param name="target">Targets, one per prediction.</param>
    /// <returns>A 0-dim tensor.</returns>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices that do not fit, NaN or infinite values, or a loss that overflows the dtype.</exception>
    public override Tensor forward(Tensor input, Tensor target)
    {
        Validate(input, target, minimumBatch: 1);
        using var scope = NewDisposeScope();
        var (variance, factor) = Variance(input);
        var pred = input.reshape(-1, 1);
        var y = target.reshape(-1, 1).to(input.dtype);
        var means = tensor(Prior.Means.ToArray(), dtype: input.dtype, device: input.device).unsqueeze(0);
        var componentVariances = tensor(Prior.Variances.ToArray(), dtype: input.dtype, device: input.device).unsqueeze(0) + variance;
        var logWeights = tensor(Prior.Weights.ToArray(), dtype: input.dtype, device: input.device).log().unsqueeze(0);

        var mse = (pred - y).square() / (variance * 2) + variance.log() * 0.5;
        var balancing = (componentVariances.log() * -0.5 - (pred - means).square() / (componentVariances * 2) + logWeights).logsumexp(1, keepdim: true);
        var loss = ((mse + balancing) * factor).mean();
        InputValidation.RequireFiniteResult(loss, "loss");
        return loss.MoveToOuterDisposeScope();
    }
}
