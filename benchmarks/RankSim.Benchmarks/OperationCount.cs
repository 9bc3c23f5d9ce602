using RankSim.Cpu;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// The tensor operations one RankSimLoss forward + backward issues (a fresh leaf each call, as a training loop makes
/// it), counted as the TorchSharp tensor handles created on this thread during the call
/// (<see cref="DisposeScopeManager.Statistics"/>: created inside plus outside dispose scopes). Every libtorch operation
/// that returns a tensor creates one handle, and so does every tensor an autograd function receives or saves; views and
/// in-place operations count too. Counted on the CPU kernels' path and on the device-agnostic path (what CUDA runs),
/// then both paths timed interleaved round by round (<see cref="InterleavedRounds"/>).
/// </summary>
internal static class OperationCount
{
    public static void Run(BenchmarkCase c, int threads, int rounds, int callsPerRound)
    {
        var (features, labels, _, loss) = BenchmarkData.Probe(c, threads);
        var detached = features.detach();
        void Call()
        {
            using var scope = NewDisposeScope();
            var leaf = detached.detach().requires_grad_();
            loss.call(leaf, labels).backward();
            leaf.grad!.Dispose();
        }

        void Reference()
        {
            using var path = CpuKernels.UseReferencePath();
            Call();
        }

        Console.WriteLine($"{c}, {threads} thread(s): tensor handles created per forward + backward (fresh leaf)");
        foreach (var (name, call) in new (string, Action)[] { ("CPU kernels", Call), ("device-agnostic path", Reference) })
        {
            call();
            var statistics = DisposeScopeManager.Statistics.TensorStatistics;
            long before = statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount;
            call();
            long created = statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount - before;
            Console.WriteLine($"  {name,-24} {created,5}");
        }

        var times = InterleavedRounds.Time([("CPU kernels", Call), ("device-agnostic path", Reference)], rounds, _ => callsPerRound, collect: false);
        Console.WriteLine($"  {rounds} interleaved rounds of {callsPerRound} calls: median [min, max] ms per call");
        Console.WriteLine($"  {"CPU kernels",-24} {InterleavedRounds.Spread(times[0], "F3")}");
        Console.WriteLine($"  {"device-agnostic path",-24} {InterleavedRounds.Spread(times[1], "F3")}");
    }

    /// <summary>
    /// Age-like or continuous labels (age-like B = 256, D = 2048 unless given): <paramref name="calls"/> forward + backward calls (fresh leaf) on
    /// the CPU kernels' path or on the device-agnostic one, after one untimed call, and nothing else: the process an
    /// external counter of libtorch operator calls (uprobes on libtorch's operator entry points) runs twice, with two call
    /// counts, to take the difference; or a sampling profiler runs.
    /// </summary>
    public static void Calls(bool reference, int calls, int batch = 256, int dimension = 2048, bool ageLike = true)
    {
        var (features, labels, _, loss) = BenchmarkData.Probe(new BenchmarkCase(batch, dimension, ageLike), 1);
        var detached = features.detach();
        using var path = CpuKernels.UseReferencePath(reference);
        for (int i = 0; i <= calls; i++)
        {
            using var scope = NewDisposeScope();
            var leaf = detached.detach().requires_grad_();
            loss.call(leaf, labels).backward();
        }
    }
}
