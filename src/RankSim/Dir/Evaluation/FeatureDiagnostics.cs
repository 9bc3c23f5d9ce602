using static TorchSharp.torch;

namespace RankSim.Dir;

/// <summary>
/// Diagnostics of one batch of features, for a user's own training loop: whether the features are collapsing, and how
/// well their similarities follow the labels (what RankSim asks for). Computed in float64 with tensor operations on the
/// features' device; costs an [B, B] Gram matrix, an SVD of [B, D] and one sort of the B (B - 1) / 2 pairs, so call it
/// on one batch per epoch (B up to a few thousand), not every step.
/// </summary>
/// <remarks>
/// Why more than the mean cosine: ReLU features share a large mean direction, so their raw mean pairwise cosine is high
/// (often above 0.9) in ordinary training, and a warning at cosine 0.99 cannot tell that from collapse. Centering removes
/// the shared direction; the effective rank counts how many directions the centered batch still uses; the prediction
/// spread tells whether the regressor's outputs still vary as the labels do.
/// <para>
/// A low effective rank is not collapse by itself. A regression encoder only has to order the samples along the label,
/// which one direction can do, and RankSim asks for exactly that: features whose similarities rank as the labels do may
/// use a handful of directions (an effective rank of 2-4) while the regression is better than without RankSim. The
/// regression decides: <see cref="CollapseCheck.Judge"/> calls a model collapsed when its predictions hardly vary or its
/// validation error is far worse than without the regularizer, and reports these statistics beside the verdict.
/// </para>
/// </remarks>
public sealed record FeatureDiagnostics
{
    /// <summary>Cosines are rounded to multiples of 1 / 2^40 before ranking, so that rounding noise does not order equal similarities.</summary>
    private const double TieResolution = 1L << 40;

    /// <summary>Batch size B.</summary>
    public required int Count { get; init; }

    /// <summary>Mean cosine similarity over the pairs i != j of the raw features (in [-1, 1]).</summary>
    public required double MeanCosine { get; init; }

    /// <summary>
    /// Mean pairwise cosine of the batch-centered features f_i - mean(f) (pairs i != j, rows of zero norm left out;
    /// centered values within B * 2^-50 of the largest feature magnitude count as 0, the rounding of the mean). NaN when no
    /// centered row is left (a batch that does not vary). About
    /// -1 / (B - 1) when the centered rows have similar norms, whatever the geometry; clearly positive when a few outlying
    /// samples share one direction.
    /// </summary>
    public required double CenteredMeanCosine { get; init; }

    /// <summary>
    /// Effective rank of the centered features (Roy and Vetterli, 2007): exp(H(p)) with p_k = s_k / sum(s) over the singular
    /// values s of the centered [B, D] matrix, in [1, min(B, D)]: 1 when the batch varies along one direction only, D for
    /// isotropic features. 0 when the batch does not vary at all.
    /// </summary>
    public required double EffectiveRank { get; init; }

    /// <summary>
    /// Spearman correlation, over the pairs i &lt; j, of the cosine similarity of f_i and f_j with the label closeness
    /// -||y_i - y_j|| (average ranks for ties; cosines within about 1e-12 of each other tie): 1 when more similar features
    /// always belong to closer labels, the order RankSim asks for. NaN when every pair is equally close (a single label
    /// value) or every similarity is equal.
    /// </summary>
    public required double SimilarityLabelSpearman { get; init; }

    /// <summary>
    /// std(predictions) / std(labels) for scalar labels: near 1 when the predictions vary as the labels do, near 0 when they
    /// are almost constant. NaN without predictions, for K-dimensional labels or for constant labels.
    /// </summary>
    public required double PredictionSpread { get; init; }

    /// <summary>Computes the diagnostics of one batch.</summary>
    /// <param name="features">Features [B, D] (B &gt;= 2), floating point, finite, on any device.</param>
    /// <param name="labels">Labels [B], [B, 1] or [B, K], real numbers, finite, on the features' device.</param>
    /// <param name="predictions">Optional predictions [B] or [B, 1] (for <see cref="PredictionSpread"/>), finite.</param>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices that do not fit, fewer than two samples, or NaN or infinite values.</exception>
    public static FeatureDiagnostics Compute(Tensor features, Tensor labels, Tensor? predictions = null)
    {
        InputValidation.RequireFloatingPoint(features, nameof(features));
        InputValidation.RequireRealNumber(labels, nameof(labels));
        if (features.dim() != 2 || features.size(0) < 2 || features.size(1) < 1)
        {
            throw new ArgumentException($"features must be [B, D] with B >= 2 and D >= 1; got {InputValidation.Shape(features)}.", nameof(features));
        }

        long batch = features.size(0);
        if (labels.dim() is < 1 or > 2 || labels.size(0) != batch || labels.numel() != batch * (labels.dim() == 2 ? Math.Max(1, labels.size(1)) : 1))
        {
            throw new ArgumentException($"labels must be [{batch}], [{batch}, 1] or [{batch}, K] with K >= 1; got {InputValidation.Shape(labels)}.", nameof(labels));
        }

        InputValidation.RequireData(features, nameof(features));
        InputValidation.RequireData(labels, nameof(labels));
        InputValidation.RequireSameDevice(features, nameof(features), labels, nameof(labels));
        InputValidation.RequireFinite(features, nameof(features));
        InputValidation.RequireFinite(labels, nameof(labels));
        if (predictions is not null)
        {
            InputValidation.RequireFloatingPoint(predictions, nameof(predictions));
            if (predictions.numel() != batch || predictions.dim() > 2)
            {
                throw new ArgumentException($"predictions must be [{batch}] or [{batch}, 1]; got {InputValidation.Shape(predictions)}.", nameof(predictions));
            }

            InputValidation.RequireData(predictions, nameof(predictions));
            InputValidation.RequireSameDevice(features, nameof(features), predictions, nameof(predictions));
            InputValidation.RequireFinite(predictions, nameof(predictions));
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // Every diagnostic is scale-free: the features are divided by a power of two near their largest magnitude (exact)
        // so that centering and the SVD cannot overflow.
        var f = PowerOfTwoScaled(features.detach().to(ScalarType.Float64)).Scaled;
        var y = labels.detach().to(ScalarType.Float64).reshape(batch, -1);
        var pairs = triu_indices(batch, batch, 1, device: features.device);

        // Cosines are compared at a resolution of 2^-40 (about 1e-12): pairs whose similarity differs only by rounding
        // (equal in exact arithmetic) tie, as Spearman's average ranks expect.
        var cosine = Cosines(f);
        var pairCosines = cosine[pairs[0], pairs[1]].mul(TieResolution).round_().div_(TieResolution);
        // What centering leaves of a feature that does not vary is rounding (up to about B ulps of the largest value, which
        // the scaling puts in [1, 2)): differences that small count as none, so a constant batch has no centered rows.
        var centered = f - f.mean([0], keepdim: true);
        centered.masked_fill_(centered.abs().le(batch * Math.ScaleB(1, -50)), 0);
        var centeredCosine = Cosines(centered);
        var nonZero = centered.norm(1).gt(0);
        var pairValid = nonZero[pairs[0]].logical_and(nonZero[pairs[1]]);
        double centeredMean = pairValid.any().item<bool>() ? centeredCosine[pairs[0], pairs[1]][pairValid].mean().item<double>() : double.NaN;

        var singular = linalg.svdvals(centered);
        double total = singular.sum().item<double>();
        double effectiveRank = 0;
        if (total > 0)
        {
            var p = singular / total;
            var positive = p[p.gt(0)];
            effectiveRank = Math.Exp(-(positive * positive.log()).sum().item<double>());
        }

        // Label closeness -||y_i - y_j||, computed at a power-of-two scale so that it cannot overflow (as RankSim's distances).
        var closeness = -LabelSimilarity.Distances(y)[pairs[0], pairs[1]];
        double spearman = Correlation(AverageRanks(pairCosines), AverageRanks(closeness));

        double spread = double.NaN;
        if (predictions is not null && y.size(1) == 1)
        {
            var (scaledLabels, labelScale) = PowerOfTwoScaled(y);
            var (scaledPredictions, predictionScale) = PowerOfTwoScaled(predictions.detach().to(ScalarType.Float64));
            double labelStd = scaledLabels.std().item<double>();
            spread = labelStd > 0 ? scaledPredictions.std().item<double>() / labelStd * (predictionScale / labelScale) : double.NaN;
        }

        return new FeatureDiagnostics
        {
            Count = (int)batch,
            MeanCosine = pairCosines.mean().item<double>(),
            CenteredMeanCosine = centeredMean,
            EffectiveRank = effectiveRank,
            SimilarityLabelSpearman = spearman,
            PredictionSpread = spread,
        };
    }

    /// <summary>The tensor divided by 2^k, with 2^k the power of two at or below its largest magnitude (1 for all zeros), and 2^k.</summary>
    private static (Tensor Scaled, double Scale) PowerOfTwoScaled(Tensor values)
    {
        double largest = values.abs().max().item<double>();
        double scale = largest > 0 ? Math.ScaleB(1, Math.ILogB(largest)) : 1;
        return (values / scale, scale);
    }

    /// <summary>Cosine similarities [B, B] of the rows, each row scaled by its largest magnitude first (no overflow); zero rows give 0.</summary>
    private static Tensor Cosines(Tensor rows)
    {
        var scaled = rows / rows.abs().amax([1], keepdim: true).clamp_min(double.Epsilon);
        var unit = scaled / scaled.norm(1, keepdim: true).clamp_min(1e-300);
        return unit.mm(unit.t()).clamp(-1, 1);
    }

    /// <summary>Average ranks (ties share their mean rank) of a vector, as Spearman's correlation needs.</summary>
    private static Tensor AverageRanks(Tensor values) => Ranks.Ascending(values.unsqueeze(0), RankTies.Average).squeeze(0);

    /// <summary>Pearson correlation of two vectors; NaN when either is constant.</summary>
    private static double Correlation(Tensor x, Tensor y)
    {
        // A constant vector has no correlation (its mean can differ from its value by rounding, so test it exactly).
        if (x.max().item<double>() == x.min().item<double>() || y.max().item<double>() == y.min().item<double>())
        {
            return double.NaN;
        }

        var dx = x - x.mean();
        var dy = y - y.mean();
        double denominator = Math.Sqrt(dx.square().sum().item<double>() * dy.square().sum().item<double>());
        return denominator > 0 ? (dx * dy).sum().item<double>() / denominator : double.NaN;
    }
}
