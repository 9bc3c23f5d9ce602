using System.Globalization;
using System.Text.Json;
using nietras.SeparatedValues;
using RankSim;
using RankSim.Dir;
using Spectre.Console;
using static TorchSharp.torch;

namespace DirExperiment;

/// <summary>
/// The RankSim study: on three settings that differ in kind (RAND HIE, weakly predictive real tabular data with an MLP;
/// generated AgeDB-shaped tabular data, smooth and strongly predictive; AgeDB-shaped synthetic images with a CNN), each
/// baseline runs once per seed and every RankSim arm is compared with it on the same seeds (same split, initialization
/// and batch order). Epochs are selected on validation MAE only; the arms are fixed in advance (no selection on test).
/// Reported per arm: test MAE, the paired difference against the baseline (mean, standard error, seeds won) overall and
/// few-shot, the paper's RankSim term (cosine, exact ranks, whatever the arm trains with) at the last epoch with and without
/// RankSim training, the selected model's feature diagnostics, and the epoch time against the baseline's (a rough measure: runs of one seed follow each other, so
/// one-time costs land on the first run; QuickStart measures RankSim's share of a step properly, interleaved).
/// </summary>
internal static class Study
{
    /// <summary>
    /// The arms, fixed before any run, all at the sample's default weight gamma = 0.1: the paper's RankSim (blackbox,
    /// lambda 0.5), the same on centered features, soft ranks (epsilon 0.1, the library default), and soft ranks on
    /// centered features. (The per-row perturbation was studied on 2026-12-02 and collapsed the features; see docs/study.md.)
    /// </summary>
    public static readonly RankSimArm[] Arms =
    [
        new(0.1, 0.5, PerturbationScaling.Paper),
        new(0.1, 0.5, PerturbationScaling.Paper, FeatureSimilarity.CenteredCosine),
        new(0.1, 0.5, PerturbationScaling.Paper, FeatureSimilarity.Cosine, RankingKind.Soft),
        new(0.1, 0.5, PerturbationScaling.Paper, FeatureSimilarity.CenteredCosine, RankingKind.Soft),
    ];

    /// <summary>
    /// The paper's term (cosine, exact ranks, the first arm's lambda), recorded for every arm so that "term with and without
    /// RankSim" compares like with like: the same rows are kept (a generator with the run's subsampling seed, drawn from
    /// once per call as the arm's).
    /// </summary>
    private static RankSimLoss PaperTerm(int seed) => new(FeatureRanking.Blackbox(Arms[0].Lambda), generator: Trainer.SubsamplingGenerator(seed));

    /// <summary>One setting: a dataset and the base methods RankSim is added to (the CNN setting, at 50-80 s a run, only Vanilla).</summary>
    private sealed record Setting(string Dataset, string[] Bases);

    private static readonly Setting[] Settings =
    [
        new("randhie", ["Vanilla", "SQINV"]),
        new("synthetic", ["Vanilla", "SQINV"]),
        new("agedb-like", ["Vanilla"]),
    ];

    /// <summary>One row of the study: a base method with one arm, over the seeds.</summary>
    internal sealed record Row(
        string Dataset, string Base, string Arm, int Seeds, double MaeAll, double MaeAllStd, PairedComparison All, PairedComparison? Few,
        double TermWith, double TermWithout, double EffectiveRank, double BaseEffectiveRank, double Spearman, double BaseSpearman,
        double PredictionSpread, int Collapsed, double TimeRatio, double BestEpoch, double Epochs)
    {
        /// <summary>Whether the arm beats its baseline by at least two paired standard errors on MAE All or Few.</summary>
        public bool BeatsByTwoStandardErrors =>
            All.MeanDifference + 2 * All.StandardError < 0 || (Few is { } few && few.MeanDifference + 2 * few.StandardError < 0);
    }

    public static void Run(ExperimentSettings settings, Device device, string output, CancellationToken cancellationToken)
    {
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 220;
        }

        var rows = new List<Row>();
        var started = DateTime.Now;
        foreach (var setting in Settings)
        {
            var load = Datasets.Open(setting.Dataset, settings.Quick, null, null);
            var runs = new List<(string Base, string Arm, RunResult Result)>();
            for (int seed = settings.FirstSeed; seed < settings.FirstSeed + settings.Seeds; seed++)
            {
                var data = load(seed);
                var training = LabelDistribution.FromLabels(data.TrainY, LabelBinning.IntegersFromLabels(cat([data.TrainY, data.ValY, data.TestY])));
                var trainer = new Trainer(settings, data, training, device);
                foreach (string baseName in setting.Bases)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var baseline = trainer.Run(MethodSpec.Parse(baseName), seed, Arms[0], (_, _) => { });
                    runs.Add((baseName, "none", baseline));
                    foreach (var arm in Arms)
                    {
                        var result = trainer.Run(MethodSpec.Parse(baseName == "Vanilla" ? "RankSim" : baseName + "+RankSim"), seed, arm, (_, _) => { }, arm == Arms[0] ? null : PaperTerm);
                        runs.Add((baseName, arm.Label, result));
                        Console.WriteLine($"  {setting.Dataset}, seed {seed}: {baseName}+RankSim [{arm.Label}] test MAE {Report.Format(result.Test.All.Mae)} "
                            + $"(without: {Report.Format(baseline.Test.All.Mae)}), best epoch {result.BestEpoch}/{result.Curve.Count}, {result.Seconds:F1} s");
                    }
                }
            }

            foreach (string baseName in setting.Bases)
            {
                var baseRuns = runs.Where(r => r.Base == baseName && r.Arm == "none").Select(r => r.Result).ToList();
                foreach (var arm in Arms)
                {
                    var armRuns = runs.Where(r => r.Base == baseName && r.Arm == arm.Label).Select(r => r.Result).ToList();
                    rows.Add(Summarize(setting.Dataset, baseName, arm, armRuns, baseRuns, runs.Select(r => r.Result).ToList()));
                }
            }
        }

        Console.WriteLine($"study: {rows.Count} arms in {(DateTime.Now - started).TotalMinutes:F1} min");
        AnsiConsole.Write(Table(rows));
        WriteCsv(Path.Combine(output, "study.csv"), rows);
        File.WriteAllText(Path.Combine(output, "study.json"), JsonSerializer.Serialize(new
        {
            seeds = settings.Seeds, firstSeed = settings.FirstSeed, epochs = settings.Epochs, quick = settings.Quick, learningRate = settings.LearningRate,
            schedule = settings.Schedule.ToString(), batchSize = settings.BatchSize, patience = settings.Patience,
            arms = Arms.Select(a => new
            {
                label = a.Label, gamma = a.Gamma, lambda = a.Lambda, scaling = a.Scaling.ToString(), similarity = a.Similarity.ToString(),
                ranking = a.Ranking.ToString(), softRegularization = a.SoftRegularization,
            }),
            rows,
        }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    }

    private static Row Summarize(string dataset, string baseName, RankSimArm arm, List<RunResult> armRuns, List<RunResult> baseRuns, List<RunResult> all)
    {
        var comparison = PairedComparison.OfReports([.. armRuns.Select(r => r.Test)], [.. baseRuns.Select(r => r.Test)]);
        double EpochSeconds(RunResult r) => r.Seconds / r.Curve.Count;
        double armTime = armRuns.Average(EpochSeconds), baseTime = baseRuns.Average(EpochSeconds);
        var maes = armRuns.Select(r => r.Test.All.Mae).ToArray();
        double mean = maes.Average();
        return new Row(
            dataset, baseName, arm.Label, armRuns.Count, mean, maes.Length > 1 ? Math.Sqrt(maes.Sum(m => (m - mean) * (m - mean)) / (maes.Length - 1)) : double.NaN,
            comparison["All"]!, comparison["Few"],
            armRuns.Average(r => r.Curve[^1].RankSimTerm), baseRuns.Average(r => r.Curve[^1].RankSimTerm),
            armRuns.Average(r => r.Diagnostics.EffectiveRank), baseRuns.Average(r => r.Diagnostics.EffectiveRank),
            armRuns.Average(r => r.Diagnostics.SimilarityLabelSpearman), baseRuns.Average(r => r.Diagnostics.SimilarityLabelSpearman),
            armRuns.Average(r => r.Diagnostics.PredictionSpread),
            armRuns.Count(r => RunCollapse.Reason(r, all.Where(b => b.Seed == r.Seed && baseRuns.Contains(b)).Append(r).ToList()) is not null),
            armTime / baseTime, armRuns.Average(r => r.BestEpoch), armRuns.Average(r => r.Curve.Count));
    }

    private static string Signed(double value) => value.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture);

    private static Table Table(IReadOnlyList<Row> rows)
    {
        var table = new Table().Title("RankSim study: test MAE; paired difference with minus without RankSim, mean ± SE (seeds lower)");
        foreach (string column in new[] { "setting", "base", "RankSim arm", "MAE All", "Δ All", "Δ Few", "≥2 SE", "term with / without", "eff. rank with / without", "Spearman with / without", "collapsed", "epoch time" })
        {
            table.AddColumn(new TableColumn(column));
        }

        foreach (var r in rows)
        {
            table.AddRow(
                r.Dataset, r.Base, Markup.Escape(r.Arm), $"{Report.Format(r.MaeAll)} ± {Report.Format(r.MaeAllStd)}",
                $"{Signed(r.All.MeanDifference)} ± {Report.Format(r.All.StandardError)} ({r.All.Lower}/{r.All.Count})",
                r.Few is { } few ? $"{Signed(few.MeanDifference)} ± {Report.Format(few.StandardError)} ({few.Lower}/{few.Count})" : "n/a",
                r.BeatsByTwoStandardErrors ? "yes" : "no",
                $"{Report.Format(r.TermWith)} / {Report.Format(r.TermWithout)}", $"{r.EffectiveRank:F1} / {r.BaseEffectiveRank:F1}",
                $"{Report.Format(r.Spearman)} / {Report.Format(r.BaseSpearman)}", $"{r.Collapsed}/{r.Seeds}", $"{r.TimeRatio:F2}x");
        }

        return table;
    }

    private static void WriteCsv(string path, IReadOnlyList<Row> rows)
    {
        using var writer = Sep.New(',').Writer(o => o with { CultureInfo = CultureInfo.InvariantCulture }).ToFile(path);
        foreach (var r in rows)
        {
            using var row = writer.NewRow();
            row["setting"].Set(r.Dataset);
            row["base"].Set(r.Base);
            row["arm"].Set(r.Arm);
            row["seeds"].Format(r.Seeds);
            row["mae_all"].Format(r.MaeAll);
            row["mae_all_std"].Format(r.MaeAllStd);
            row["diff_all"].Format(r.All.MeanDifference);
            row["se_all"].Format(r.All.StandardError);
            row["lower_all"].Format(r.All.Lower);
            row["diff_few"].Format(r.Few?.MeanDifference ?? double.NaN);
            row["se_few"].Format(r.Few?.StandardError ?? double.NaN);
            row["lower_few"].Format(r.Few?.Lower ?? 0);
            row["beats_by_2_se"].Set(r.BeatsByTwoStandardErrors ? "true" : "false");
            row["ranksim_term_with"].Format(r.TermWith);
            row["ranksim_term_without"].Format(r.TermWithout);
            row["effective_rank_with"].Format(r.EffectiveRank);
            row["effective_rank_without"].Format(r.BaseEffectiveRank);
            row["spearman_with"].Format(r.Spearman);
            row["spearman_without"].Format(r.BaseSpearman);
            row["prediction_spread_with"].Format(r.PredictionSpread);
            row["collapsed_seeds"].Format(r.Collapsed);
            row["epoch_time_ratio"].Format(r.TimeRatio);
            row["best_epoch"].Format(r.BestEpoch);
            row["epochs_run"].Format(r.Epochs);
        }
    }
}
