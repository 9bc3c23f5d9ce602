using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Pairwise label similarity (the sigma_y of RankSim, Gong et al., ICML 2022, Eq. 2): L_ij = -|y_i - y_j| for scalar
/// labels and minus the Euclidean distance for K-dimensional labels. Only the ranks of L enter the loss, and ranking
/// L in descending order is ranking the distance in ascending order, ties included; so the distance is what is computed.
/// </summary>
internal static class LabelSimilarity
{
    /// <summary>
    /// A matrix [M, M] ordered like ||y_i - y_j|| within every row, for labels [M, K] in a floating dtype: |y_i - y_j| for
    /// K = 1 and ||y_i - y_j||^2 for K &gt; 1 (squaring is monotonic, so no square root is taken). Rank it with
    /// <see cref="Ranks.Ascending"/> to get the ranks of L.
    /// </summary>
    public static Tensor Distances(Tensor labels)
    {
        using var scope = NewDisposeScope();
        var result = labels.shape[1] == 1
            ? (labels - labels.t()).abs_()
            : (labels.unsqueeze(1) - labels.unsqueeze(0)).pow_(2).sum(dim: -1);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Ascending ranks [M, M] of the label distances along each row (the ranks of L), for labels [M, K] in a floating
    /// dtype: the matrix of <see cref="Distances"/>, ranked. (On the CPU, <c>Cpu.ScalarLabelRanker</c> gives the same
    /// ranks for scalar labels without forming the matrix.)
    /// </summary>
    public static Tensor Ranks(Tensor labels, RankTies ties)
    {
        using var scope = NewDisposeScope();
        return RankSim.Ranks.Ascending(Distances(labels), ties).MoveToOuterDisposeScope();
    }
}
