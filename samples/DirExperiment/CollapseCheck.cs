namespace DirExperiment;

/// <summary>
/// Flags collapse in the model a run selected, from its <see cref="RankSim.Dir.FeatureDiagnostics"/> on validation: the
/// predictions hardly vary (their spread below <see cref="MinPredictionSpread"/> of the labels'), or, for a method with
/// RankSim, its features use fewer than <see cref="MinEffectiveRankRatio"/> of the directions (effective rank) that the
/// same method without RankSim uses on the same seed. The raw mean cosine is not used: ReLU features of ordinary training
/// reach 0.99-1.00 in it (the agedb-like CNN from its first epoch), so a cosine rule cannot tell collapse from training.
/// </summary>
internal static class CollapseCheck
{
    /// <summary>Predictions whose standard deviation is below this fraction of the labels' count as collapsed.</summary>
    public const double MinPredictionSpread = 0.1;

    /// <summary>A RankSim run whose effective rank is below this fraction of its baseline's counts as collapsed.</summary>
    public const double MinEffectiveRankRatio = 0.25;

    /// <summary>Why <paramref name="run"/> counts as collapsed, or null.</summary>
    public static string? Reason(RunResult run, IReadOnlyList<RunResult> results)
    {
        var d = run.Diagnostics;
        if (d.PredictionSpread < MinPredictionSpread)
        {
            return $"its predictions hardly vary (spread {d.PredictionSpread:F3} of the labels', below {MinPredictionSpread})";
        }

        var spec = MethodSpec.Parse(run.Method);
        if (!spec.RankSim)
        {
            return null;
        }

        string baselineName = spec.WithoutRankSim().Name;
        var baseline = results.FirstOrDefault(r => r.Method == baselineName && r.Seed == run.Seed);
        if (baseline is null || !(d.EffectiveRank < MinEffectiveRankRatio * baseline.Diagnostics.EffectiveRank))
        {
            return null;
        }

        return $"its features use {d.EffectiveRank:F1} effective directions against {baseline.Diagnostics.EffectiveRank:F1} without RankSim (mean cosine {d.MeanCosine:F3})";
    }
}
