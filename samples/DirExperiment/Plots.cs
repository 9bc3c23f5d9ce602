using RankSim.Dir;
using ScottPlot;

namespace DirExperiment;

/// <summary>The PNG figures of a run.</summary>
internal static class Plots
{
    /// <summary>Training label histogram with the many / medium / few-shot regions shaded.</summary>
    public static void LabelHistogram(string path, LabelDistribution training, ShotSplit split)
    {
        var plot = new Plot();
        var binning = training.Binning;
        var colors = new Dictionary<ShotGroup, Color> { [ShotGroup.Many] = Colors.Green, [ShotGroup.Medium] = Colors.Orange, [ShotGroup.Few] = Colors.Red };
        for (int bin = 0; bin < binning.Count; bin++)
        {
            var span = plot.Add.HorizontalSpan(binning.LowerEdge(bin) - 0.5, binning.LowerEdge(bin) + 0.5);
            span.FillStyle.Color = colors[split.BinGroups[bin]].WithAlpha(0.15);
            span.LineStyle.Width = 0;
        }

        var bars = plot.Add.Bars(Enumerable.Range(0, binning.Count).Select(binning.LowerEdge).ToArray(), training.Counts.ToArray());
        bars.Color = Colors.SteelBlue;
        plot.Title($"Training labels (shaded: many > {split.ManyThreshold}, few < {split.FewThreshold}, medium between)");
        plot.XLabel("label");
        plot.YLabel("training samples");
        plot.SavePng(path, 1000, 500);
    }

    /// <summary>Test MAE per label bin, averaged over seeds, one line per method.</summary>
    public static void MaeByBin(string path, IReadOnlyList<string> methods, IReadOnlyList<RunResult> results)
    {
        var plot = new Plot();
        foreach (var method in methods)
        {
            var runs = results.Where(r => r.Method == method).ToList();
            var bins = runs.SelectMany(r => r.TestMaeByBin.Keys).Distinct().Order().ToArray();
            var mae = bins.Select(b => runs.Where(r => r.TestMaeByBin.ContainsKey(b)).Average(r => r.TestMaeByBin[b])).ToArray();
            var line = plot.Add.Scatter(bins.Select(b => (double)b).ToArray(), mae);
            line.LegendText = method;
        }

        plot.ShowLegend();
        plot.Title("Test MAE per label bin (mean over seeds)");
        plot.XLabel("label bin");
        plot.YLabel("MAE");
        plot.SavePng(path, 1000, 500);
    }

    /// <summary>One value of the training curve (seed of the first run) against the epoch, one line per method.</summary>
    public static void Curves(string path, string title, Func<EpochRecord, double> value, IReadOnlyList<string> methods, IReadOnlyList<RunResult> results)
    {
        var plot = new Plot();
        int firstSeed = results.Min(r => r.Seed);
        foreach (var method in methods)
        {
            var run = results.First(r => r.Method == method && r.Seed == firstSeed);
            if (run.Curve.All(e => double.IsNaN(value(e))))
            {
                continue;   // not recorded for this method (e.g. the RankSim term of a method without RankSim)
            }

            var line = plot.Add.Scatter(run.Curve.Select(e => (double)e.Epoch).ToArray(), run.Curve.Select(value).ToArray());
            line.LegendText = method;
        }

        plot.ShowLegend();
        plot.Title($"{title} (seed {firstSeed})");
        plot.XLabel("epoch");
        plot.YLabel(title);
        plot.SavePng(path, 1000, 500);
    }
}
