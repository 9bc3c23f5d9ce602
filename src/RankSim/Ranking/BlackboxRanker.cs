using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// The differentiable ranker RankSim uses (Gong et al., ICML 2022), the reference code's <c>TrueRanker</c>: row-wise
/// normalized descending ranks (rank + 1) / N along the last dimension, with the blackbox-differentiation gradient of
/// Vlastelica et al. ("Differentiation of Blackbox Combinatorial Solvers", ICLR 2020); for ranking losses of your own.
/// Functional form <see cref="ranksim.nn.functional.blackbox_rank"/>.
/// </summary>
/// <remarks>
/// Forward: r = rk(s), e.g. [0.1, 0.9, 0.5, 0.3] -> [1.0, 0.25, 0.5, 0.75]. Exactly equal scores get distinct ranks in
/// index order (the earlier column ranks first) on every device; every NaN ranks as one value above +infinity. Backward,
/// for the upstream gradient g: s' = s + lambda * g, r' = rk(s'), and dL/ds = -(r - r') / (lambda + 1e-8); a row whose
/// upstream gradient holds a NaN or an infinity gets NaN throughout. A lambda so small that s + lambda * g orders every
/// row as s does gives an exactly zero gradient: with float32 scores near 1, lambda * |g| must reach about 1e-7.
/// Changing the scores in place before backward makes backward raise libtorch's error for a saved tensor modified by an
/// in-place operation, naming the scores' type and shape.
/// </remarks>
public sealed class BlackboxRanker : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the ranker.</summary>
    /// <param name="interpolationLambda">Interpolation strength lambda of the backward pass, in (0, 1e30] (default 2, RankSim's).</param>
    /// <exception cref="ArgumentOutOfRangeException">lambda is not in (0, 1e30].</exception>
    public BlackboxRanker(double interpolationLambda = 2.0) : base(nameof(BlackboxRanker))
    {
        InputValidation.RequireLambda(interpolationLambda, nameof(interpolationLambda));
        InterpolationLambda = interpolationLambda;
    }

    /// <summary>Interpolation strength lambda of the backward pass.</summary>
    public double InterpolationLambda { get; }

    /// <summary>Ranks the scores.</summary>
    /// <param name="input">Floating-point scores, [N] or [R, N] with N &gt;= 1, finite, on any device.</param>
    /// <returns>
    /// Ranks in {1/N, ..., 1}, the shape of the scores; float64 for float64 scores, float32 otherwise. The gradient
    /// reaches the scores in their own dtype.
    /// </returns>
    /// <exception cref="ArgumentException">A null, disposed, empty, non-floating, non-finite or wrongly shaped tensor.</exception>
    public override Tensor forward(Tensor input) => BlackboxRank.Rank(input, InterpolationLambda);
}
