using System.Globalization;
using RankSim;
using static TorchSharp.torch;

namespace DirExperiment;

/// <summary>
/// How the feature regularizers are applied in a run: RankSim's weight gamma in the loss, the feature similarity, and the
/// ranking (the blackbox with its lambda and perturbation scaling, or soft ranks with their regularization); and the
/// weight of the ordinal entropy term (<see cref="OrdinalEntropyLoss"/>) for methods with OE; and the label bin width of
/// RankSim's subsampling (null: one sample per distinct label, the paper's).
/// </summary>
internal sealed record RankSimArm(
    double Gamma, double Lambda, PerturbationScaling Scaling,
    FeatureSimilarity Similarity = FeatureSimilarity.Cosine, RankingKind Ranking = RankingKind.Blackbox,
    double SoftRegularization = RankSimArm.DefaultSoftRegularization, double OrdinalEntropyWeight = RankSimArm.DefaultOrdinalEntropyWeight,
    double? BinWidth = null)
{
    /// <summary>The ordinal entropy term's default weight in the loss.</summary>
    public const double DefaultOrdinalEntropyWeight = 1.0;

    /// <summary>The soft ranks' default epsilon, in similarity units (the library's default).</summary>
    public const double DefaultSoftRegularization = 0.1;

    /// <summary>A short label, e.g. "Paper g0.1 l0.5", "PerRow g1 l0.5", "Soft e0.1 g0.1 centered", "Paper g0.1 l0.5 bins 1".</summary>
    public string Label
    {
        get
        {
            string ranking = Ranking == RankingKind.Soft
                ? $"Soft e{Format(SoftRegularization)} g{Format(Gamma)}"
                : $"{Scaling} g{Format(Gamma)} l{Format(Lambda)}";
            string similarity = Similarity == FeatureSimilarity.Cosine ? ranking : $"{ranking} {(Similarity == FeatureSimilarity.CenteredCosine ? "centered" : "dot")}";
            return BinWidth is double width ? $"{similarity} bins {Format(width)}" : similarity;
        }
    }

    /// <summary>The loss this arm trains with.</summary>
    public RankSimLoss CreateLoss(Generator generator) =>
        new(FeatureRanking, Similarity, generator: generator, labelBinWidth: BinWidth);

    /// <summary>The library's ranking choice with this arm's settings.</summary>
    public FeatureRanking FeatureRanking =>
        Ranking == RankingKind.Soft ? FeatureRanking.Soft(SoftRegularization) : FeatureRanking.Blackbox(Lambda, Scaling);

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The command line's names for the library's <see cref="FeatureRanking"/> choices.</summary>
internal enum RankingKind
{
    /// <summary><see cref="FeatureRanking.Blackbox"/>, with --lambda and --perturbation.</summary>
    Blackbox,

    /// <summary><see cref="FeatureRanking.Soft"/>, with --soft-regularization.</summary>
    Soft,
}
