using RankSim.Dir;

namespace DirExperiment;

/// <summary>
/// The collapse verdict of a run, by the library's outcome rule (<see cref="CollapseCheck.Judge"/>): the selected model's
/// predictions hardly vary on validation, or, for a method with a feature regularizer (RankSim, OE), its validation MAE is
/// more than 1.5 times the same method's without it on the same seed. The feature statistics (effective rank, cosines, Spearman) come with
/// the reason; they do not decide.
/// </summary>
internal static class RunCollapse
{
    /// <summary>Why <paramref name="run"/> counts as collapsed, or null.</summary>
    public static string? Reason(RunResult run, IReadOnlyList<RunResult> results)
    {
        if (double.IsNaN(run.Diagnostics.PredictionSpread))
        {
            return null;
        }

        var spec = MethodSpec.Parse(run.Method);
        string baselineName = spec.Regularized ? spec.WithoutRegularizers().Name : "";
        double? baseline = results.FirstOrDefault(r => spec.Regularized && r.Method == baselineName && r.Seed == run.Seed)?.ValMae;
        var verdict = CollapseCheck.Judge(run.Diagnostics, run.ValMae, baseline);
        return verdict.Collapsed ? verdict.Reason : null;
    }
}
