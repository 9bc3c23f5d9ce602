using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// How much a larger batch costs against a smaller one: RankSimLoss forward + backward at both sizes, interleaved round
/// by round in one process (<see cref="InterleavedRounds"/>, after one warm-up call each), the ratio taken per round and
/// reported as median and range over the rounds, with the ratio of the matrix products alone (n n^T) beside it.
/// </summary>
internal static class GrowthRatio
{
    public static void Run(int small, int large, int featureDim, int threads, int rounds, bool ageLike, bool reference)
    {
        set_num_threads(threads);
        using var path = RankSim.Cpu.CpuKernels.UseReferencePath(reference);
        var contenders = new List<(string Name, Action Call)>();
        foreach (int batch in new[] { small, large })
        {
            var (features, labels) = BenchmarkData.Create(new BenchmarkCase(batch, featureDim, ageLike), seed: 1);
            features.requires_grad_();
            var loss = new RankSimLoss();
            var normalized = nn.functional.normalize(features.detach(), dim: 1);
            contenders.Add(($"B = {batch}: RankSimLoss forward + backward", () => { using var s = NewDisposeScope(); loss.call(features, labels).backward(); }));
            contenders.Add(($"B = {batch}: n n^T alone", () => normalized.mm(normalized.t()).Dispose()));
        }

        foreach (var (_, call) in contenders)
        {
            call();   // warm-up, not timed
        }

        var times = InterleavedRounds.Time(contenders, rounds, _ => 1, collect: true);
        Console.WriteLine($"{(ageLike ? "age-like" : "continuous")} labels, D = {featureDim}, {(reference ? "device-agnostic path" : "CPU kernels")}, {threads} thread(s); {rounds} interleaved rounds: median [min, max]");
        for (int k = 0; k < contenders.Count; k++)
        {
            Console.WriteLine($"  {contenders[k].Name,-44} {InterleavedRounds.Spread(times[k], "F1")} ms");
        }

        Console.WriteLine($"  {$"B = {large} / B = {small}, RankSimLoss, per round",-44} {InterleavedRounds.Spread(times[2].Zip(times[0], (l, s) => l / s), "F2")} x");
        Console.WriteLine($"  {$"B = {large} / B = {small}, n n^T, per round",-44} {InterleavedRounds.Spread(times[3].Zip(times[1], (l, s) => l / s), "F2")} x");
    }
}
