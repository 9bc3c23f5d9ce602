using static TorchSharp.torch;

namespace RankSim;

/// <summary>How the similarity of two feature vectors is measured (the sigma_f of RankSim, Gong et al., ICML 2022, Eq. 2).</summary>
public enum FeatureSimilarity
{
    /// <summary>Cosine similarity n(f_i) . n(f_j), with n the L2 row normalisation (eps 1e-12). The paper's choice; the default.</summary>
    Cosine,

    /// <summary>Plain dot product f_i . f_j, without normalisation.</summary>
    DotProduct,
}

/// <summary>Pairwise feature similarity matrices.</summary>
internal static class FeatureSimilarities
{
    private const double NormalisationEpsilon = 1e-12;

    /// <summary>S = n(F) n(F)^T (cosine) or F F^T (dot product) for features [M, D]; [M, M], differentiable.</summary>
    public static Tensor Pairwise(Tensor features, FeatureSimilarity similarity)
    {
        using var scope = NewDisposeScope();
        var f = similarity switch
        {
            FeatureSimilarity.Cosine => nn.functional.normalize(RescaleRows(features), p: 2.0, dim: 1, eps: NormalisationEpsilon),
            FeatureSimilarity.DotProduct => features,
            _ => throw new ArgumentOutOfRangeException(nameof(similarity), similarity, "Unknown feature similarity."),
        };
        return f.mm(f.t()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Divides each row by its largest magnitude, which leaves its cosine similarities unchanged but keeps the L2 norm
    /// from overflowing (features near 1e20 in float32) or underflowing (near 1e-20). All-zero rows stay zero.
    /// </summary>
    private static Tensor RescaleRows(Tensor features)
    {
        double smallestNormal = features.dtype == ScalarType.Float64 ? 2.2250738585072014e-308 : 1.1754943508222875e-38;
        return features / features.detach().abs().amax([1], keepdim: true).clamp_min(smallestNormal);
    }
}
