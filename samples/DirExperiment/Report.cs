using System.Globalization;
using System.Text.Json;
using nietras.SeparatedValues;
using RankSim;
using RankSim.Dir;
using Spectre.Console;

namespace DirExperiment;

/// <summary>Tables, paired differences and the results files.</summary>
internal static class Report
{
    private static readonly (string Name, Func<DirReport, RegressionMetrics> Pick)[] Groups =
    [
        ("All", r => r.All), ("Many", r => r.Many), ("Medium", r => r.Medium), ("Few", r => r.Few),
    ];

    public static string Format(double value) => double.IsNaN(value) ? "n/a" : value.ToString("F3", CultureInfo.InvariantCulture);

    private static (double Mean, double Std) MeanStd(IReadOnlyList<double> values)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        if (finite.Length == 0)
        {
            return (double.NaN, double.NaN);
        }

        double mean = finite.Average();
        double std = finite.Length > 1 ? Math.Sqrt(finite.Sum(v => (v - mean) * (v - mean)) / (finite.Length - 1)) : 0;
        return (mean, std);
    }

    /// <summary>MAE and GM per shot group, mean +- std over seeds, one row per method.</summary>
    public static Table MetricsTable(IReadOnlyList<string> methods, IReadOnlyList<RunResult> results)
    {
        var table = new Table().Title("Test metrics (mean ± std over seeds)");
        table.AddColumn("Method");
        foreach (var (name, _) in Groups)
        {
            table.AddColumn(new TableColumn($"MAE {name}").RightAligned());
        }

        foreach (var (name, _) in Groups)
        {
            table.AddColumn(new TableColumn($"GM {name}").RightAligned());
        }

        foreach (var method in methods)
        {
            var runs = results.Where(r => r.Method == method).ToList();
            var cells = new List<string> { Markup.Escape(method) };
            foreach (var metric in new Func<RegressionMetrics, double>[] { m => m.Mae, m => m.GeometricMean })
            {
                foreach (var (_, pick) in Groups)
                {
                    var (mean, std) = MeanStd(runs.Select(r => metric(pick(r.Test))).ToList());
                    cells.Add($"{Format(mean)} ± {Format(std)}");
                }
            }

            table.AddRow(cells.ToArray());
        }

        return table;
    }

    /// <summary>
    /// The regularizers' paired effect, MAE(with) - MAE(without) on the same seeds (negative is better), for every method
    /// with RankSim or OE whose baseline ran on the same seeds.
    /// </summary>
    public static IReadOnlyList<PairedDifference> PairedDifferences(IReadOnlyList<string> methods, IReadOnlyList<RunResult> results)
    {
        var differences = new List<PairedDifference>();
        foreach (var method in methods.Where(m => MethodSpec.Parse(m).Regularized))
        {
            string baseline = MethodSpec.Parse(method).WithoutRegularizers().Name;
            var pairs = results.Where(r => r.Method == method)
                .Join(results.Where(r => r.Method == baseline), r => r.Seed, r => r.Seed, (with, without) => (with, without)).ToList();
            if (pairs.Count > 0)
            {
                differences.Add(new PairedDifference(method, baseline, PairedComparison.OfReports([.. pairs.Select(p => p.with.Test)], [.. pairs.Select(p => p.without.Test)])));
            }
        }

        return differences;
    }

    public static Table DifferenceTable(IReadOnlyList<PairedDifference> differences)
    {
        var table = new Table().Title("The regularizers' paired effect: MAE(with) − MAE(without), same seeds (negative = the regularizer helps)");
        table.AddColumn("Method");
        table.AddColumn("against");
        foreach (var (name, _) in Groups)
        {
            table.AddColumn(new TableColumn($"ΔMAE {name}").RightAligned());
        }

        table.AddColumn(new TableColumn("SE (All)").RightAligned());
        table.AddColumn(new TableColumn("seeds won (All)").RightAligned());
        foreach (var d in differences)
        {
            var all = d.Comparison["All"]!;
            table.AddRow([Markup.Escape(d.Method), Markup.Escape(d.Baseline), .. Groups.Select(g => Format(d.Comparison[g.Name]?.MeanDifference ?? double.NaN)),
                Format(all.StandardError), $"{all.Lower}/{all.Count}"]);
        }

        return table;
    }

    public static void WriteCsv(string path, IReadOnlyList<RunResult> results)
    {
        using var writer = Sep.New(',').Writer(o => o with { CultureInfo = CultureInfo.InvariantCulture }).ToFile(path);
        foreach (var r in results)
        {
            foreach (var (name, pick) in Groups)
            {
                var m = pick(r.Test);
                using var row = writer.NewRow();
                row["method"].Set(r.Method);
                row["seed"].Format(r.Seed);
                row["group"].Set(name);
                row["count"].Format(m.Count);
                row["mae"].Format(m.Mae);
                row["mse"].Format(m.Mse);
                row["rmse"].Format(m.Rmse);
                row["gm"].Format(m.GeometricMean);
                row["pearson"].Format(m.Pearson);
                row["spearman"].Format(m.Spearman);
                row["balanced_mae"].Format(m.BalancedMae);
                row["best_epoch"].Format(r.BestEpoch);
                row["collapsed"].Set(RunCollapse.Reason(r, results) is null ? "false" : "true");
                row["seconds"].Format(r.Seconds);
            }
        }
    }

    public static void WriteJson(string path, ExperimentSettings options, Dataset data, IReadOnlyList<RunResult> results, IReadOnlyList<PairedDifference> differences)
    {
        static object Metrics(RegressionMetrics m) => new
        {
            count = m.Count, mae = Finite(m.Mae), mse = Finite(m.Mse), rmse = Finite(m.Rmse), gm = Finite(m.GeometricMean),
            pearson = Finite(m.Pearson), spearman = Finite(m.Spearman), balanced_mae = Finite(m.BalancedMae),
        };

        var document = new
        {
            config = options,
            dataset = new { name = data.Name, train = data.TrainY.shape[0], val = data.ValY.shape[0], test = data.TestY.shape[0] },
            versions = new
            {
                ranksim = typeof(RankSimLoss).Assembly.GetName().Version?.ToString(),
                torchsharp = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(),
                dotnet = Environment.Version.ToString(),
                os = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            },
            runs = results.Select(r => new
            {
                method = r.Method, seed = r.Seed, best_epoch = r.BestEpoch, collapsed = RunCollapse.Reason(r, results), seconds = r.Seconds,
                diagnostics = new
                {
                    mean_cosine = Finite(r.Diagnostics.MeanCosine), centered_mean_cosine = Finite(r.Diagnostics.CenteredMeanCosine),
                    effective_rank = Finite(r.Diagnostics.EffectiveRank), similarity_label_spearman = Finite(r.Diagnostics.SimilarityLabelSpearman),
                    prediction_spread = Finite(r.Diagnostics.PredictionSpread),
                },
                test = Groups.ToDictionary(g => g.Name.ToLowerInvariant(), g => Metrics(g.Pick(r.Test))),
                curve = r.Curve.Select(e => new { epoch = e.Epoch, train_loss = e.TrainLoss, ranksim = Finite(e.RankSimTerm), val_mae = e.ValMae, mean_cosine = Finite(e.Diagnostics.MeanCosine),
                    centered_mean_cosine = Finite(e.Diagnostics.CenteredMeanCosine), effective_rank = Finite(e.Diagnostics.EffectiveRank),
                    similarity_label_spearman = Finite(e.Diagnostics.SimilarityLabelSpearman), prediction_spread = Finite(e.Diagnostics.PredictionSpread),
                }),
            }),
            paired_differences = differences.Select(d => new
            {
                method = d.Method, baseline = d.Baseline,
                mae_difference = d.Comparison.ToDictionary(kv => kv.Key.ToLowerInvariant(), kv => kv.Value is not { } c ? null : (object)new
                {
                    seeds = c.Count, mean = c.MeanDifference, standard_error = Finite(c.StandardError), seeds_lower = c.Lower, seeds_higher = c.Higher,
                }),
            }),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>JSON has no NaN: empty groups are written as null.</summary>
    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

/// <summary>A regularizer's paired effect for one method: test MAE with minus without it, per shot group (the library's paired comparison).</summary>
internal sealed record PairedDifference(string Method, string Baseline, IReadOnlyDictionary<string, PairedComparison?> Comparison);
