using System.Globalization;
using RankSim;
using static TorchSharp.torch;

namespace DirExperiment;

/// <summary>
/// How RankSim is applied in a run: its weight gamma in the loss, the feature similarity, and the ranking (the blackbox
/// with its lambda and perturbation scaling, or soft ranks with their regularisation).
/// </summary>
internal sealed record RankSimArm(
    double Gamma, double Lambda, PerturbationScaling Scaling,
    FeatureSimilarity Similarity = FeatureSimilarity.Cosine, FeatureRanking Ranking = FeatureRanking.Blackbox,
    double SoftRegularization = RankSimLoss.DefaultSoftRankRegularization)
{
    /// <summary>A short label, e.g. "Paper g0.1 l0.5", "PerRow g1 l0.5", "Soft e0.1 g0.1 centred".</summary>
    public string Label
    {
        get
        {
            string ranking = Ranking == FeatureRanking.Soft
                ? $"Soft e{Format(SoftRegularization)} g{Format(Gamma)}"
                : $"{Scaling} g{Format(Gamma)} l{Format(Lambda)}";
            return Similarity == FeatureSimilarity.Cosine ? ranking : $"{ranking} {(Similarity == FeatureSimilarity.CentredCosine ? "centred" : "dot")}";
        }
    }

    /// <summary>The loss this arm trains with.</summary>
    public RankSimLoss CreateLoss(Generator generator) =>
        new(Lambda, generator: generator, featureSimilarity: Similarity)
        {
            PerturbationScaling = Scaling,
            FeatureRanking = Ranking,
            SoftRankRegularization = SoftRegularization,
        };

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
