using static TorchSharp.torch;

namespace RankSim.Dir;

/// <summary>
/// Balanced MSE, batch-based Monte-Carlo (BMC; Ren et al., CVPR 2022, Eq. 8), the reference code's <c>BMCLoss</c>: with
/// logits_ij = -||pred_i - y_j||^2 / (2 sigma^2) over the batch, loss = cross-entropy(logits, i) * 2 sigma^2 (the factor
/// detached). Scalar targets ([B] or [B, 1]) and K-dimensional ones ([B, K], the reference's <c>bmc_loss_md</c>: the
/// Gaussian's normalizing constant is the same for every j and cancels in the cross-entropy). Functional form
/// <see cref="ranksim.nn.functional.bmc_loss"/>.
/// </summary>
public sealed class BMCLoss : BalancedMSELoss
{
    /// <summary>Creates the loss, as the reference's <c>BMCLoss(init_noise_sigma)</c>.</summary>
    /// <param name="initialNoiseSigma">
    /// The noise scale sigma at the start (not the variance), in [1e-15, 1e15] (default 1); the paper's code uses 1 for
    /// its age and depth tasks and 8 for its synthetic one.
    /// </param>
    /// <param name="learnable">Train sigma with the model (default true).</param>
    /// <exception cref="ArgumentOutOfRangeException">sigma is outside [1e-15, 1e15].</exception>
    public BMCLoss(double initialNoiseSigma = 1.0, bool learnable = true) : base(initialNoiseSigma, learnable)
    {
    }

    /// <summary>BMC loss of a batch.</summary>
    /// <param name="input">Predictions [B], [B, 1] or [B, K], floating, B &gt;= 2 (with one sample the loss would be identically 0).</param>
    /// <param name="target">Targets, the same values per sample ([B, K] for K-dimensional predictions).</param>
    /// <returns>A 0-dim tensor in the predictions' dtype.</returns>
    /// <exception cref="ArgumentException">
    /// Shapes, dtypes or devices that do not fit, a batch of one, NaN or infinite values, or a loss that overflows the dtype.
    /// </exception>
    public override Tensor forward(Tensor input, Tensor target)
    {
        ValidatePair(input, target, minimumBatch: 2, multiDimensional: true, nameof(BMCLoss));
        using var scope = NewDisposeScope();
        return Formula(input, target, VarianceFor(input)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The formula for validated inputs and the variance sigma^2 (any floating dtype), computed in float64 and returned in
    /// the predictions' dtype: the gradient with respect to sigma passes through 1 / sigma^4 (beyond float32 from sigma
    /// below about 1e-10 or above 1e9) though it is itself about 1 / sigma, so only float64 keeps it finite over the
    /// accepted range of sigma. Each row of logits is shifted by its own target's term, so that predictions far from 0
    /// do not cancel to rounding.
    /// </summary>
    internal static Tensor Formula(Tensor input, Tensor target, Tensor variance)
    {
        using var scope = NewDisposeScope();
        long batch = input.size(0);
        var pred = input.reshape(batch, -1).to(ScalarType.Float64);
        var y = target.reshape(batch, -1).to(ScalarType.Float64);
        var v = variance.to(ScalarType.Float64);

        // logits_ij = -||p_i - y_j||^2 / (2 v), each row shifted by its own target's term (which leaves the cross-entropy
        // unchanged): -(||p_i - y_j||^2 - ||p_i - y_i||^2) / (2 v) = -sum_k (y_ik - y_jk) (2 p_ik - y_ik - y_jk) / (2 v),
        // free of the cancellation of two large squares when the predictions are far from 0.
        var (yi, yj) = (y.unsqueeze(1), y.unsqueeze(0));
        var excess = ((yi - yj) * (pred.unsqueeze(1) * 2 - yi - yj)).sum([-1]);
        var logits = -excess / (v * 2);
        var classes = arange(batch, dtype: ScalarType.Int64, device: input.device);
        var loss = (nn.functional.cross_entropy(logits, classes) * (v.detach() * 2)).to(input.dtype);
        InputValidation.RequireFiniteResult(loss, "loss");
        return loss.MoveToOuterDisposeScope();
    }
}
