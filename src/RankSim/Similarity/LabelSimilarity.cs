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
    /// K = 1 and ||y_i - y_j||^2 for K &gt; 1 (squaring is monotonic, so no square root is taken). The labels are first
    /// divided by the power of two at or below their largest magnitude: exact, it changes no order and no tie, and the
    /// differences and squared sums can then not overflow (labels near the dtype's limit rank as they would in wider
    /// arithmetic). Only labels more than about 2^1000 (float64; 2^100 for float32) smaller than the largest lose bits
    /// to underflow. Rank it with <see cref="Ranks.Ascending"/> to get the ranks of L. Labels that came from an integer
    /// dtype (<paramref name="integerLabels"/>: float64 integers within +-2^53, as validated) skip the scaling: their
    /// differences and squares cannot overflow float64, and scaling by a power of two would change no value's order.
    /// </summary>
    public static Tensor Distances(Tensor labels, bool integerLabels = false)
    {
        using var scope = NewDisposeScope();
        var y = integerLabels ? labels : labels / PowerOfTwoScale(labels);
        var result = y.size(1) == 1
            ? (y - y.t()).abs_()
            : (y.unsqueeze(1) - y.unsqueeze(0)).pow_(2).sum(dim: -1);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The power of two at or below the largest magnitude of the labels (0-dim; at least the smallest normal number).</summary>
    private static Tensor PowerOfTwoScale(Tensor labels)
    {
        double smallestNormal = labels.dtype == ScalarType.Float64 ? 2.2250738585072014e-308 : 1.1754943508222875e-38;
        return labels.abs().amax().clamp_min_(smallestNormal).log2_().floor_().exp2_();
    }

    /// <summary>
    /// Ascending ranks [M, M] of the label distances along each row (the ranks of L), for labels [M, K] in a floating
    /// dtype, by the backend <see cref="Dispatch.LabelRanks"/> picks: finite scalar labels on the CPU by merged walks
    /// without forming the matrix (unless their distances overflow); everything else by <see cref="RanksOfDistances"/>.
    /// The ranks are the same. <paramref name="integerLabels"/>: as for <see cref="Distances"/>.
    /// </summary>
    public static Tensor DistanceRanks(Tensor labels, RankTies ties, bool integerLabels = false) =>
        Dispatch.LabelRanks(labels).LabelRanks(labels, ties, integerLabels);

    /// <summary>
    /// The ranks of the distance matrix, each row ranked by the backend <see cref="Dispatch.Rows"/> picks: the formula
    /// of <see cref="DistanceRanks"/> for labels the scalar-label kernel does not take.
    /// </summary>
    public static Tensor RanksOfDistances(Tensor labels, RankTies ties, bool integerLabels)
    {
        using var scope = NewDisposeScope();
        var distances = Distances(labels, integerLabels);
        return Dispatch.Rows(distances).RankRows(distances, descending: false, ties).MoveToOuterDisposeScope();
    }
}
