using System.Diagnostics;
using System.Globalization;
using ScottPlot;

namespace RankSim.Benchmarks;

/// <summary>
/// How a call grows with the batch: for each batch size and both paths (CPU kernels, device-agnostic), a child process
/// runs <see cref="ScaleCheck"/> (so that the peak resident memory is that batch's), and the table and a log-log plot
/// of the median time per forward + backward follow, with the growth of B^2 (the two M x M x D products) for comparison.
/// </summary>
internal static class Growth
{
    public sealed record Row(string Path, int Batch, double MedianMs, double PeakMiB);

    public static List<Row> Measure(int[] batches, int dim, int threads, int repeats, bool ageLike)
    {
        var rows = new List<Row>();
        foreach (bool reference in new[] { false, true })
        {
            foreach (int batch in batches)
            {
                var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
                if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
                {
                    start.ArgumentList.Add(typeof(Growth).Assembly.Location);
                }

                foreach (string arg in new[] { "scale", "--batch", $"{batch}", "--dim", $"{dim}", "--threads", $"{threads}", "--repeats", $"{repeats}" })
                {
                    start.ArgumentList.Add(arg);
                }

                if (reference)
                {
                    start.ArgumentList.Add("--reference");
                }

                if (ageLike)
                {
                    start.ArgumentList.Add("--age-like");
                }

                using var process = Process.Start(start)!;
                string output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                double median = Number(output, "median ", " ms");
                double peak = Number(output, "peak resident memory ", " MiB");
                var row = new Row(reference ? "device-agnostic" : "CPU kernels", batch, median, peak);
                Console.WriteLine($"growth: {row.Path,-15} B={batch,5}: {median,9:F1} ms, peak {peak,6:F0} MiB");
                rows.Add(row);
            }
        }

        return rows;
    }

    public static void Report(List<Row> rows, string plotPath, int dim, bool ageLike)
    {
        Console.WriteLine($"| B | CPU kernels (ms) | x previous | peak (MiB) | device-agnostic (ms) | x previous | peak (MiB) |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var kernels = rows.Where(r => r.Path == "CPU kernels").ToList();
        var tensors = rows.Where(r => r.Path != "CPU kernels").ToList();
        for (int i = 0; i < kernels.Count; i++)
        {
            string Ratio(List<Row> list) => i == 0 ? "" : (list[i].MedianMs / list[i - 1].MedianMs).ToString("F1", CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {kernels[i].Batch} | {kernels[i].MedianMs:F1} | {Ratio(kernels)} | {kernels[i].PeakMiB:F0} | {tensors[i].MedianMs:F1} | {Ratio(tensors)} | {tensors[i].PeakMiB:F0} |"));
        }

        File.WriteAllLines(Path.ChangeExtension(plotPath, ".csv"),
            ["path,batch,median_ms,peak_mib", .. rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Path},{r.Batch},{r.MedianMs},{r.PeakMiB}"))]);

        var plot = new Plot();
        foreach (var series in new[] { kernels, tensors })
        {
            var line = plot.Add.Scatter(series.Select(r => Math.Log2(r.Batch)).ToArray(), series.Select(r => Math.Log10(r.MedianMs)).ToArray());
            line.LegendText = series[0].Path;
        }

        // B^2 through the kernels' first point: the growth of the products alone.
        var square = plot.Add.Scatter(
            kernels.Select(r => Math.Log2(r.Batch)).ToArray(),
            kernels.Select(r => Math.Log10(kernels[0].MedianMs * Math.Pow((double)r.Batch / kernels[0].Batch, 2))).ToArray());
        square.LegendText = "B² from the first point";
        square.LinePattern = LinePattern.Dashed;
        plot.ShowLegend();
        plot.Title($"RankSimLoss forward + backward, {(ageLike ? "age-like" : "continuous")} labels, D = {dim}, one process per point");
        plot.XLabel("log2 B");
        plot.YLabel("log10 ms per call (median)");
        plot.SavePng(plotPath, 900, 550);
    }

    private static double Number(string output, string before, string after)
    {
        int start = output.IndexOf(before, StringComparison.Ordinal);
        if (start < 0)
        {
            return double.NaN;
        }

        start += before.Length;
        int end = output.IndexOf(after, start, StringComparison.Ordinal);
        return double.Parse(output[start..end], CultureInfo.InvariantCulture);
    }
}
