using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Balanced MSE, batch-based Monte-Carlo (BMC; Ren et al., CVPR 2022, Eq. 8): with logits_ij = -(pred_i - y_j)^2 / (2 sigma^2)
/// over the batch, loss = cross-entropy(logits, i) * 2 sigma^2 (the factor detached). Call with (pred, target).
/// </summary>
public sealed class BmcLoss : BalancedMseLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="initialNoiseVariance">sigma^2 at the start, &gt; 0 (default 1).</param>
    /// <param name="learnable">Train sigma^2 with the model (default true).</param>
    public BmcLoss(double initialNoiseVariance = 1.0, bool learnable = true) : base(initialNoiseVariance, learnable)
    {
    }

    /// <summary>BMC loss of a batch.</summary>
    /// <param name="input">Predictions [B] or [B, 1], B &gt;= 2 (with one sample the loss would be identically 0).</param>
    /// <param name="target">Targets, one per prediction.</param>
    /// <returns>A 0-dim tensor.</returns>
    /// <exception cref="ArgumentException">
    /// Shapes, dtypes or devices that do not fit, a batch of one, NaN or infinite values, or a loss that overflows the dtype.
    /// </exception>
    public override Tensor forward(Tensor input, Tensor target)
    {
        Validate(input, target, minimumBatch: 2);
        using var scope = NewDisposeScope();
        var (variance, factor) = Variance(input);
        var pred = input.reshape(-1, 1);
        var y = target.reshape(1, -1).to(input.dtype);
        var logits = -(pred - y).square() / (variance * 2);
        var classes = arange(pred.shape[0], dtype: ScalarType.Int64, device: input.device);
        var loss = nn.functional.cross_entropy(logits, classes) * factor;
        InputValidation.RequireFiniteResult(loss, "loss");
        return loss.MoveToOuterDisposeScope();
    }
}
