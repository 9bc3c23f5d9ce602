using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// The unavoidable work of one RankSim forward and backward on [M, D] features: L2 normalization and S = n n^T, the
/// three row-wise sorts of [M, M] (feature ranks, label ranks, perturbed feature ranks in the backward pass), and the
/// backward pass of the matrix product and the normalization.
/// </summary>
internal static class PrimitiveFloor
{
    public static void Run(Tensor keptFeatures, Tensor labelSimilarity, Tensor upstream)
    {
        var normalized = nn.functional.normalize(keptFeatures, dim: 1);
        var similarity = normalized.mm(normalized.t());
        var detached = similarity.detach();
        detached.sort(-1, descending: true);
        labelSimilarity.sort(-1, descending: true);
        (detached + upstream).sort(-1, descending: true);
        similarity.backward([upstream]);
    }
}
