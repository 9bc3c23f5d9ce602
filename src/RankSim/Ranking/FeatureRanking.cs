namespace RankSim;

/// <summary>How <see cref="RankSimLoss"/> makes the ranks of the feature similarities differentiable.</summary>
public enum FeatureRanking
{
    /// <summary>
    /// Exact ranks with the blackbox-differentiation gradient (Vlastelica et al., ICLR 2020; see <see cref="BlackboxRank"/>
    /// and <see cref="PerturbationScaling"/>): the paper's choice and the default.
    /// </summary>
    Blackbox = 0,

    /// <summary>
    /// Soft ranks by projection onto the permutahedron (Blondel et al., ICML 2020; see <see cref="SoftRank"/>), with their
    /// exact gradient; the strength is <see cref="RankSimLoss.SoftRankRegularization"/>. The interpolation lambda and the
    /// perturbation scaling are not used.
    /// </summary>
    Soft = 1,
}
