using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Soft ranks (Blondel, Teboul, Berthet, Djolonga, "Fast Differentiable Sorting and Ranking", ICML 2020, quadratic
/// regularization) along the last dimension, with their exact gradient. By default in torchsort's convention
/// (<c>torchsort.soft_rank(values, regularization_strength=1.0)</c>: ascending, 1 for the smallest value, N for the
/// largest); <c>descending: true, normalized: true</c> gives the convention of <see cref="BlackboxRanker"/> and of
/// RankSim's soft feature ranking (1/N for the largest value, 1 for the smallest). Functional form
/// <see cref="ranksim.nn.functional.soft_rank"/>.
/// </summary>
/// <remarks>
/// The ascending soft ranks are the Euclidean projection of s / epsilon onto the permutahedron of (N, ..., 1); the
/// descending ones, of -s / epsilon; normalized ranks are divided by N. As epsilon goes to 0 they become the exact ranks;
/// a larger epsilon pools neighbouring values into equal ranks, e.g. ascending [0, 1] at epsilon 4 -> [1.375, 1.625].
/// Every row sums to N (N + 1) / 2 (normalized: (N + 1) / 2). Computed in float64 (pool-adjacent-violators on the CPU,
/// the min-max formula of isotonic regression elsewhere, the same bits), returned in float32, or float64 for float64 values.
/// </remarks>
public sealed class SoftRanker : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the ranker.</summary>
    /// <param name="regularizationStrength">epsilon in [1e-30, 1e30], in the units of the values (default 1, torchsort's).</param>
    /// <param name="descending">Rank the largest value first (default false, torchsort's).</param>
    /// <param name="normalized">Divide the ranks by N (default false, torchsort's).</param>
    /// <exception cref="ArgumentOutOfRangeException">epsilon is not in [1e-30, 1e30].</exception>
    public SoftRanker(double regularizationStrength = 1.0, bool descending = false, bool normalized = false) : base(nameof(SoftRanker))
    {
        SoftRank.RequireRegularization(regularizationStrength, nameof(regularizationStrength));
        RegularizationStrength = regularizationStrength;
        Descending = descending;
        Normalized = normalized;
    }

    /// <summary>epsilon, in the units of the values.</summary>
    public double RegularizationStrength { get; }

    /// <summary>Whether the largest value ranks first.</summary>
    public bool Descending { get; }

    /// <summary>Whether the ranks are divided by N.</summary>
    public bool Normalized { get; }

    /// <summary>Soft ranks of the values.</summary>
    /// <param name="input">Floating-point values, [N] or [R, N] with N &gt;= 1, finite, on any device.</param>
    /// <returns>Soft ranks, the shape of the values; float64 for float64 values, float32 otherwise.</returns>
    /// <exception cref="ArgumentException">A null, disposed, empty, non-floating, non-finite or wrongly shaped tensor.</exception>
    public override Tensor forward(Tensor input) => Evaluate(input, RegularizationStrength, Descending, Normalized);

    /// <summary>The functional form: checks epsilon (named as its <c>regularization_strength</c>), then ranks.</summary>
    internal static Tensor Rank(Tensor input, double regularizationStrength, bool descending, bool normalized)
    {
        SoftRank.RequireRegularization(regularizationStrength, "regularization_strength");
        return Evaluate(input, regularizationStrength, descending, normalized);
    }

    /// <summary>The ranks in the requested convention, for an epsilon already checked: checks the values.</summary>
    private static Tensor Evaluate(Tensor input, double regularizationStrength, bool descending, bool normalized)
    {
        InputValidation.RequireLive(input, nameof(input));
        InputValidation.RequireRankScores(input, nameof(input));
        using var scope = NewDisposeScope();

        // The projection of -s / epsilon gives the descending ranks; the ascending ones are those of -s (exact negation).
        // Unnormalized ranks are scaled inside the function, in float64, in forward and backward.
        return SoftRank.SoftRankFunction.Apply(descending ? input : input.neg(), regularizationStrength, normalized).MoveToOuterDisposeScope();
    }
}
