using System.Globalization;
using System.Text.Json;
using nietras.SeparatedValues;
using RankSim;
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

    /// <summary>Per method with RankSim: MAE(with) - MAE(without) on the same seeds (negative is better).</summary>
    public static IReadOnlyList<PairedDifference> PairedDifferences(IReadOnlyList<string> methods, IReadOnlyList<RunResult> results)
    {
        var differences = new List<PairedDifference>();
        foreach (var method in methods.Where(m => MethodSpec.Parse(m).RankSim))
        {
            string baseline = MethodSpec.Parse(method).WithoutRankSim().Name;
            var pairs = results.Where(r => r.Method == method)
                .Join(results.Where(r => r.Method == baseline), r => r.Seed, r => r.Seed, (with, without) => (with, without)).ToList();
            if (pairs.Count == 0)
            {
                continue;
            }

            var perGroup = Groups.ToDictionary(g => g.Name, g => MeanStd(pairs.Select(p => g.Pick(p.with.Test).Mae - g.Pick(p.without.Test).Mae).ToList()));
            int won = pairs.Count(p => p.with.Test.All.Mae < p.without.Test.All.Mae);
            differences.Add(new PairedDifference(method, baseline, pairs.Count, won, perGroup.ToDictionary(kv => kv.Key, kv => kv.Value.Mean), perGroup["All"].Std));
        }

        return differences;
    }

    public static Table DifferenceTable(IReadOnlyList<PairedDifference> differences)
    {
        var table = new Table().Title("RankSim's paired effect: MAE(with) − MAE(without), same seeds (negative = RankSim helps)");
        table.AddColumn("Method");
        table.AddColumn("against");
        foreach (var (name, _) in Groups)
        {
            table.AddColumn(new TableColumn($"ΔMAE {name}").RightAligned());
        }

        table.AddColumn(new TableColumn("std (All)").RightAligned());
        table.AddColumn(new TableColumn("seeds won").RightAligned());
        foreach (var d in differences)
        {
            table.AddRow([Markup.Escape(d.Method), Markup.Escape(d.Baseline), .. Groups.Select(g => Format(d.MeanDifference[g.Name])), Format(d.StdAll), $"{d.SeedsWon}/{d.Seeds}"]);
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
                row["collapsed"].Set(r.Collapsed ? "true" : "false");
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
                method = r.Method, seed = r.Seed, best_epoch = r.BestEpoch, collapsed = r.Collapsed, seconds = r.Seconds,
                test = Groups.ToDictionary(g => g.Name.ToLowerInvariant(), g => Metrics(g.Pick(r.Test))),
                curve = r.Curve.Select(e => new { epoch = e.Epoch, train_loss = e.TrainLoss, ranksim = e.RankSimTerm, val_mae = e.ValMae, mean_cosine = Finite(e.MeanCosine) }),
            }),
            paired_differences = differences.Select(d => new
            {
                method = d.Method, baseline = d.Baseline, seeds = d.Seeds, seeds_won = d.SeedsWon, std_all = d.StdAll,
                mean_mae_difference = d.MeanDifference.ToDictionary(kv => kv.Key.ToLowerInvariant(), kv => Finite(kv.Value)),
            }),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>JSON has no NaN: empty groups are written as null.</summary>
    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

/// <summary>RankSim's paired effect for one method.</summary>
internal sealed record PairedDifference(string Method, string Baseline, int Seeds, int SeedsWon, IReadOnlyDictionary<string, double> MeanDifference, double StdAll);
