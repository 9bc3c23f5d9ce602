using RankSim.Autograd;
using TorchSharp;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>
/// The ordinal entropy regularizer (Zhang, Yang, Mi, Zheng, Yao, "Improving Deep Regression with Ordinal Entropy",
/// ICLR 2023): it spreads the feature centers of different labels apart, more the further apart their labels are
/// (diversity), and pulls each feature to its label's center (tightness). Its diversity term keeps features from
/// collapsing onto a few directions, so it can be used alone or added to <see cref="RankSimLoss"/>. Add it, weighted,
/// to the regression loss of the same batch; its functional form is <see cref="ranksim.nn.functional.ordinal_entropy_loss"/>.
/// </summary>
/// <example>
/// <code>
/// var ordinalEntropy = ranksim.nn.OrdinalEntropyLoss();
/// var loss = l1.call(pred, y) + 0.1 * ordinalEntropy.call(features, y);
/// </code>
/// </example>
/// <remarks>
/// One call, for features z [B, D] (flattened) and labels y [B] or [B, K]:
/// <list type="number">
/// <item>n_i = z_i / max(|z_i|, 1e-12), the features on the unit sphere;</item>
/// <item>the M distinct label values u_1..u_M, and their centers c_m = mean of n_i over the samples with label u_m;</item>
/// <item>diversity L_d = -1 / (M (M - 1)) * sum over m != k of w_mk |c_m - c_k|, with w_mk = |u_m - u_k| / max |u_a - u_b|,
/// the label distance scaled to [0, 1] within the batch (so the term does not depend on the label's units);</item>
/// <item>tightness L_t = 1 / B * sum_i |n_i - c(y_i)|;</item>
/// <item>the loss diversityWeight * L_d + tightnessWeight * L_t.</item>
/// </list>
/// |.| is the Euclidean norm. L_d lies in [-2, 0] and L_t in [0, 2]. With one distinct label L_d is 0; with all labels
/// distinct (continuous labels) L_t is 0. At a zero distance the gradient of that distance is taken as 0. Distances
/// between centers come from the Gram matrix of the centers minus their mean, so their rounding error scales with the
/// spread of the centers, not with their norm. Tensor operations on any device, with the gradient written out (one
/// custom autograd function); a call costs one [M, D] x [D, M] product and about a dozen passes over the features.
/// </remarks>
public sealed class OrdinalEntropyLoss : Loss<Tensor, Tensor, Tensor>
{
    /// <summary>The largest weight accepted for either term.</summary>
    public static double MaxWeight => 1e6;

    /// <summary>Creates the ordinal entropy loss.</summary>
    /// <param name="diversityWeight">Weight of the diversity term, in [0, 1e6] (default 1).</param>
    /// <param name="tightnessWeight">Weight of the tightness term, in [0, 1e6] (default 1).</param>
    /// <param name="checkFinite">Reject NaN or infinite features and labels (default true; one host synchronization per call off the CPU).</param>
    /// <exception cref="ArgumentOutOfRangeException">A weight is negative, above 1e6 or not a number.</exception>
    public OrdinalEntropyLoss(double diversityWeight = 1.0, double tightnessWeight = 1.0, bool checkFinite = true)
        : base(Reduction.Mean)
    {
        RequireWeight(diversityWeight, nameof(diversityWeight));
        RequireWeight(tightnessWeight, nameof(tightnessWeight));
        DiversityWeight = diversityWeight;
        TightnessWeight = tightnessWeight;
        CheckFinite = checkFinite;
    }

    /// <summary>Weight of the diversity term.</summary>
    public double DiversityWeight { get; }

    /// <summary>Weight of the tightness term.</summary>
    public double TightnessWeight { get; }

    /// <summary>Whether NaN and infinite inputs are rejected.</summary>
    public bool CheckFinite { get; }

    /// <summary>Computes the ordinal entropy loss.</summary>
    /// <param name="features">Features [B, ...] of any floating dtype and device (flattened to [B, D]); usually the penultimate layer.</param>
    /// <param name="labels">Labels [B], [B, 1] or [B, K] (K-dimensional), integer or floating, on the features' device.</param>
    /// <returns>
    /// A 0-dim tensor, float64 for float64 features and float32 otherwise; the gradient reaches <paramref name="features"/>
    /// in its dtype and device (a float16 gradient is saturated to float16's finite range).
    /// </returns>
    /// <exception cref="ArgumentException">
    /// Shapes, dtypes or devices that do not fit, an empty batch, sparse, quantized or meta tensors, int64 labels beyond
    /// +-2^53, or (with <see cref="CheckFinite"/>) NaN or infinite values.
    /// </exception>
    public override Tensor forward(Tensor features, Tensor labels) =>
        Evaluate(features, labels, DiversityWeight, TightnessWeight, CheckFinite);

    /// <summary>The functional form: checks the weights (named as its parameters), then computes.</summary>
    internal static Tensor Compute(Tensor features, Tensor labels, double diversityWeight, double tightnessWeight, bool checkFinite)
    {
        RequireWeight(diversityWeight, "diversity_weight");
        RequireWeight(tightnessWeight, "tightness_weight");
        return Evaluate(features, labels, diversityWeight, tightnessWeight, checkFinite);
    }

    /// <summary>The loss for weights already checked (by the constructor, or by <see cref="Compute"/>).</summary>
    private static Tensor Evaluate(Tensor features, Tensor labels, double diversityWeight, double tightnessWeight, bool checkFinite)
    {
        InputValidation.RequireFeaturesAndLabels(features, labels, checkFinite);

        using var scope = NewDisposeScope();
        long batch = features.size(0);
        var flat = features.dim() == 2 ? features : features.reshape(batch, -1);
        var z = flat.dtype == ScalarType.Float16 ? SaturatingCastFunction.apply(flat) : flat.to(BlackboxRank.WorkingDtype(flat.dtype));

        // Distinct labels, exactly (integers are exact in float64 up to 2^53, validated).
        var y = labels.detach().to(ScalarType.Float64);
        y = y.dim() == 2 ? y : y.unsqueeze(1);
        var (values, inverse, counts) = y.size(1) == 1
            ? y.squeeze(1).unique(sorted: true, return_inverse: true, return_counts: true)
            : y.unique(sorted: true, return_inverse: true, return_counts: true, dim: 0);
        var loss = OrdinalEntropyFunction.Apply(
            z, inverse!.reshape(batch), counts!.to(z.dtype), LabelWeights(values!.reshape(values.size(0), -1)).to(z.dtype), diversityWeight, tightnessWeight);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>w_mk = |u_m - u_k| / max |u_a - u_b| for the distinct labels u [M, K] (float64); zero when M = 1.</summary>
    private static Tensor LabelWeights(Tensor values)
    {
        // The labels are first divided by their largest magnitude, so that no difference overflows.
        var u = values / OrdinalEntropyFunction.NonZero(values.abs().max());
        var distances = cdist(u, u, p: 2.0, compute_mode: compute_mode.donot_use_mm_for_euclid_dist);
        return distances / OrdinalEntropyFunction.NonZero(distances.max());
    }

    private static void RequireWeight(double weight, string name)
    {
        if (!(weight is >= 0 and <= 1e6))
        {
            throw new ArgumentOutOfRangeException(name, weight, $"The weight must be a number in [0, {MaxWeight:G}].");
        }
    }
}
