using System.Diagnostics;
using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// The large-batch check: forward + backward of RankSimLoss at B = 8192 continuous labels, D = 512, reporting the median
/// time of a few runs and the process's peak resident memory (VmHWM) before and after.
/// </summary>
internal static class ScaleCheck
{
    public static void Run(int batchSize, int featureDim, int repeats)
    {
        set_num_threads(Environment.ProcessorCount);
        long peakBefore = PeakResidentKiB();
        var (features, labels) = BenchmarkData.Create(new BenchmarkCase(batchSize, featureDim, AgeLike: false), seed: 1);
        features.requires_grad_();
        var loss = new RankSimLoss();
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            using (NewDisposeScope())
            {
                loss.call(features, labels).backward();
            }

            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        long peakAfter = PeakResidentKiB();
        Console.WriteLine($"scale: B={batchSize} D={featureDim} continuous labels, {repeats} runs");
        Console.WriteLine($"scale: forward+backward median {times[times.Count / 2]:F0} ms (min {times[0]:F0} ms, max {times[^1]:F0} ms)");
        Console.WriteLine($"scale: peak resident memory {peakAfter / 1024.0:F0} MiB (before the first call: {peakBefore / 1024.0:F0} MiB)");
    }

    private static long PeakResidentKiB()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path))
        {
            return -1;
        }

        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? -1 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }
}
