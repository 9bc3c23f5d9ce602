using static TorchSharp.torch;

namespace RankSim;

/// <summary>Pairwise feature similarity matrices.</summary>
internal static class SimilarityMatrix
{
    /// <summary>The eps of the L2 normalization (as <c>torch.nn.functional.normalize</c>'s default).</summary>
    public const double NormalizationEpsilon = 1e-12;

    /// <summary>
    /// S = n(F) n(F)^T (cosine), n(F - mu) n(F - mu)^T (centered cosine, see <see cref="CenterFunction"/>) or F F^T (dot product) for the rows <paramref name="rows"/> (int64 [M]; null for all) of
    /// features [B, D] in float32 or float64; [M, M], differentiable through <see cref="GramFunction"/>. For cosine,
    /// n(f) = f / max(||f||, eps), with the norm taken of the row divided by its largest magnitude and scaled back, so
    /// that it neither overflows (features near 1e20 in float32) nor underflows. All-zero rows stay zero. S must go to one
    /// function whose backward returns a gradient that no one else reads (as the objectives' do): backward may overwrite it.
    /// </summary>
    public static Tensor Pairwise(Tensor features, FeatureSimilarity similarity, Tensor? rows = null)
    {
        InputValidation.RequireDefined(similarity, nameof(similarity));
        if (similarity != FeatureSimilarity.CenteredCosine)
        {
            return GramFunction.Apply(features, rows, similarity == FeatureSimilarity.Cosine, privateGradient: true);
        }

        // The centered rows come divided by s; the cosine's norm floor, eps in the features' units, is eps / s in theirs.
        using var scope = NewDisposeScope();
        var scale = CenterScale(features, rows);
        return GramFunction.Apply(CenterFunction.apply(features, rows!, scale), null, true, scale, privateGradient: true).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// s, the largest magnitude of the rows <paramref name="rows"/> (null: all) of features [B, D], at least the dtype's
    /// smallest normal number (0-dim, detached): <see cref="CenterFunction"/> divides the rows by it before it centers
    /// them, so that the mean and the differences cannot overflow, even for features near the dtype's limit.
    /// </summary>
    public static Tensor CenterScale(Tensor features, Tensor? rows)
    {
        var kept = rows is null ? features.detach() : features.detach().index_select(0, rows);
        double smallestNormal = kept.dtype == ScalarType.Float64 ? 2.2250738585072014e-308 : 1.1754943508222875e-38;
        return kept.abs().max().clamp_min_(smallestNormal);
    }

    /// <summary>
    /// Each row's largest magnitude [M, 1], at least the dtype's smallest normal number; not differentiated. Taken as
    /// max |f|, the same value as the infinity norm (NaN where the row holds one) in one vectorized pass and one
    /// reduction: libtorch's infinity norm takes about 15 times as long on the CPU.
    /// </summary>
    public static Tensor RowScale(Tensor features)
    {
        double smallestNormal = features.dtype == ScalarType.Float64 ? 2.2250738585072014e-308 : 1.1754943508222875e-38;
        return features.detach().abs().amax([1], keepdim: true).clamp_min_(smallestNormal);
    }
}
