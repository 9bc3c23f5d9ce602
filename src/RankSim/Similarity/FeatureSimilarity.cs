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
            FeatureSimilarity.Cosine => nn.functional.normalize(features, p: 2.0, dim: 1, eps: NormalisationEpsilon),
            FeatureSimilarity.DotProduct => features,
            _ => throw new ArgumentOutOfRangeException(nameof(similarity), similarity, "Unknown feature similarity."),
        };
        return f.mm(f.t()).MoveToOuterDisposeScope();
    }
}
