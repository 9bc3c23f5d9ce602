using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Pairwise label similarity (the sigma_y of RankSim, Gong et al., ICML 2022, Eq. 2): L_ij = -|y_i - y_j| for scalar
/// labels and minus the Euclidean distance for K-dimensional labels.
/// </summary>
internal static class LabelSimilarity
{
    /// <summary>
    /// A matrix [M, M] ordered like -||y_i - y_j|| within every row, for labels [M, K] in a floating dtype. For K &gt; 1 it
    /// returns -||y_i - y_j||^2: squaring is monotonic, so the ranks (all RankSim uses) are the same and no square root is taken.
    /// </summary>
    public static Tensor RankEquivalent(Tensor labels)
    {
        using var scope = NewDisposeScope();
        Tensor result;
        if (labels.shape[1] == 1)
        {
            var y = labels.squeeze(1);
            result = (y.unsqueeze(1) - y.unsqueeze(0)).abs_().neg_();
        }
        else
        {
            result = (labels.unsqueeze(1) - labels.unsqueeze(0)).pow_(2).sum(dim: -1).neg_();
        }

        return result.MoveToOuterDisposeScope();
    }
}
