using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>
/// How <see cref="RankSimLoss"/> makes the ranks of the feature similarities differentiable, with the settings that
/// belong to that choice and no others: <see cref="Blackbox"/> (the paper's: exact ranks, blackbox-differentiation
/// gradient, strength lambda) or <see cref="Soft"/> (soft ranks, strength epsilon).
/// </summary>
/// <example>
/// <code>
/// var paper = new RankSimLoss(FeatureRanking.Blackbox(interpolationLambda: 2.0));
/// var soft = new RankSimLoss(FeatureRanking.Soft(regularizationStrength: 0.1));
/// </code>
/// </example>
public abstract class FeatureRanking
{
    private protected FeatureRanking()
    {
    }

    /// <summary>The RankSim objective of similarities S [M, M] and label ranks [M, M] with this ranking, reduced.</summary>
    internal abstract Tensor Objective(Tensor similarity, LabelRankMatrix labelRanks, Reduction reduction);

    /// <summary>The paper's default: exact ranks with the blackbox gradient, lambda 2, the paper's perturbation rule.</summary>
    public static BlackboxRanking Default { get; } = new(2.0, PerturbationScaling.Paper);

    /// <summary>
    /// Exact ranks with the blackbox-differentiation gradient (Vlastelica et al., ICLR 2020), as in the paper; see
    /// <see cref="BlackboxRanker"/> for the formula.
    /// </summary>
    /// <param name="interpolationLambda">
    /// Interpolation strength lambda in (0, 1e30] (default 2, the paper's). The backward pass perturbs the similarities by
    /// lambda times their upstream gradient; a lambda so small that this moves no similarity past a neighbour gives an
    /// exactly zero gradient (with float32 similarities the perturbation must reach about 1e-7).
    /// </param>
    /// <param name="scaling">How far each anchor's row is perturbed (default <see cref="PerturbationScaling.Paper"/>).</param>
    /// <returns>The ranking choice, to pass to <see cref="RankSimLoss"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">lambda is not in (0, 1e30], or the scaling is undefined.</exception>
    public static BlackboxRanking Blackbox(double interpolationLambda = 2.0, PerturbationScaling scaling = PerturbationScaling.Paper) =>
        new(interpolationLambda, scaling);

    /// <summary>
    /// Soft ranks by projection onto the permutahedron (Blondel et al., ICML 2020), with their exact gradient; see
    /// <see cref="SoftRanker"/> for the formula. Not in the RankSim paper.
    /// </summary>
    /// <param name="regularizationStrength">
    /// epsilon in [1e-30, 1e30], in the units of the feature similarities (default 0.1: for cosine similarities,
    /// neighbours closer than about 0.1 share ranks).
    /// </param>
    /// <returns>The ranking choice, to pass to <see cref="RankSimLoss"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">epsilon is not in [1e-30, 1e30].</exception>
    public static SoftRanking Soft(double regularizationStrength = 0.1) => new(regularizationStrength);
}

/// <summary>
/// <see cref="FeatureRanking.Blackbox"/>: exact ranks, blackbox gradient with strength <see cref="InterpolationLambda"/>
/// and the perturbation rule <see cref="Scaling"/>. Immutable.
/// </summary>
public sealed class BlackboxRanking : FeatureRanking
{
    internal BlackboxRanking(double interpolationLambda, PerturbationScaling scaling)
    {
        InputValidation.RequireLambda(interpolationLambda, nameof(interpolationLambda));
        InputValidation.RequireDefined(scaling, nameof(scaling));
        InterpolationLambda = interpolationLambda;
        Scaling = scaling;
    }

    /// <summary>Interpolation strength lambda, in (0, 1e30] (the paper's is 2).</summary>
    public double InterpolationLambda { get; }

    /// <summary>How far each anchor's similarities are perturbed in the backward pass.</summary>
    public PerturbationScaling Scaling { get; }

    internal override Tensor Objective(Tensor similarity, LabelRankMatrix labelRanks, Reduction reduction) =>
        RankSimObjective.Blackbox(similarity, labelRanks, InterpolationLambda, reduction, Scaling);

    /// <summary>For example <c>Blackbox(lambda 2, Paper)</c>.</summary>
    /// <returns>The choice and its settings, in one line.</returns>
    public override string ToString() => $"Blackbox(lambda {InterpolationLambda:G}, {Scaling})";
}

/// <summary><see cref="FeatureRanking.Soft"/>: soft ranks with regularization epsilon <see cref="RegularizationStrength"/>. Immutable.</summary>
public sealed class SoftRanking : FeatureRanking
{
    internal SoftRanking(double regularizationStrength)
    {
        SoftRank.RequireRegularization(regularizationStrength, nameof(regularizationStrength));
        RegularizationStrength = regularizationStrength;
    }

    /// <summary>epsilon, in [1e-30, 1e30], in the units of the feature similarities.</summary>
    public double RegularizationStrength { get; }

    internal override Tensor Objective(Tensor similarity, LabelRankMatrix labelRanks, Reduction reduction) =>
        RankSimObjective.Soft(similarity, labelRanks, RegularizationStrength, reduction);

    /// <summary>For example <c>Soft(epsilon 0.1)</c>.</summary>
    /// <returns>The choice and its setting, in one line.</returns>
    public override string ToString() => $"Soft(epsilon {RegularizationStrength:G})";
}
