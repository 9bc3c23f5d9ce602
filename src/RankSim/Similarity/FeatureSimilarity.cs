namespace RankSim;

/// <summary>
/// How the similarity of two feature vectors is measured: the <c>similarity</c> option of <see cref="RankSimLoss"/> (the sigma_f
/// of RankSim, Gong et al., ICML 2022, Eq. 2).
/// </summary>
public enum FeatureSimilarity
{
    /// <summary>
    /// Cosine similarity n(f_i) . n(f_j), with n(f) = f / max(||f||, 1e-12), the L2 row normalization of
    /// <c>torch.nn.functional.normalize</c> (eps 1e-12). Rows with a norm below 1e-12 (zero rows: dead ReLUs, dropout,
    /// masking) are divided by 1e-12, so their gradient stays finite. The paper's choice; the default.
    /// </summary>
    Cosine,

    /// <summary>Plain dot product f_i . f_j, without normalization.</summary>
    DotProduct,

    /// <summary>
    /// Cosine similarity of batch-centered features, n(f_i - mu) . n(f_j - mu), with mu the mean of the rows that are
    /// ranked (the kept samples, or the whole batch without subsampling) and n as for <see cref="Cosine"/>. An
    /// anti-collapse choice (not in the paper): a direction shared by all features adds nothing to these similarities, so
    /// the ranking cannot be satisfied by a narrow cone around a common direction, as with <see cref="Cosine"/> (mean
    /// pairwise cosine near 1). A row equal to the mean is a zero row (similarity 0 to all). The norm floor 1e-12 applies
    /// to the centered rows in the units of the features passed, so features whose centered rows are shorter than 1e-12
    /// get the similarities of their centered dot products (scaled by 1e24); for features far smaller still, those
    /// round to 0 and so does the gradient.
    /// </summary>
    CenteredCosine,
}
