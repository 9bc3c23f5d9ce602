using System.Diagnostics;
using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// One large batch: forward + backward of RankSimLoss (continuous labels unless age-like), reporting the median time of
/// a few calls after one warm-up call and the process's peak resident memory (VmHWM) before and after, on the CPU kernels or the
/// device-agnostic path. One batch size a process, so that the peak belongs to it.
/// </summary>
internal static class ScaleCheck
{
    public static void Run(int batchSize, int featureDim, int repeats, int threads, bool reference, bool ageLike)
    {
        set_num_threads(threads);
        using var path = RankSim.Cpu.CpuKernels.UseReferencePath(reference);
        long peakBefore = PeakResidentKiB();
        var (features, labels) = BenchmarkData.Create(new BenchmarkCase(batchSize, featureDim, ageLike), seed: 1);
        features.requires_grad_();
        var loss = new RankSimLoss();
        using (NewDisposeScope())
        {
            loss.call(features, labels).backward();   // warm-up, not timed
        }

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
        Console.WriteLine($"scale: B={batchSize} D={featureDim} {(ageLike ? "age-like" : "continuous")} labels, {(reference ? "device-agnostic path" : "CPU kernels")}, {threads} thread(s), {repeats} runs");
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"scale: forward+backward median {times[times.Count / 2]:F2} ms (min {times[0]:F2} ms, max {times[^1]:F2} ms)"));
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"scale: peak resident memory {peakAfter / 1024.0:F0} MiB (before the first call: {peakBefore / 1024.0:F0} MiB)"));
    }

    internal static long PeakResidentKiB()
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
