using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// RankSimLoss against the loop baseline and the traffic floor, interleaved round by round (<see cref="InterleavedRounds"/>);
/// the speed-up is taken per round and reported as median and range over the rounds.
/// </summary>
internal static class InterleavedRatio
{
    public static void Run(BenchmarkCase c, int threads, int rounds, int callsPerRound)
    {
        var (features, labels, generator, loss) = BenchmarkData.Probe(c, threads);
        var detached = features.detach();
        var contenders = new (string Name, Action Call)[]
        {
            ("loop baseline", () => { using var s = NewDisposeScope(); LoopBaseline.Loss(features, labels, 2.0, generator).backward(); }),
            ("RankSimLoss", () => { using var s = NewDisposeScope(); loss.call(features, labels).backward(); }),
            ("traffic floor (read and write [B, D] once)", () => detached.mul(2f).Dispose()),
        };

        var times = InterleavedRounds.Time(contenders, rounds, k => k == 0 ? Math.Max(1, callsPerRound / 10) : callsPerRound, collect: false);

        Console.WriteLine($"{c}, {threads} thread(s); {rounds} interleaved rounds: median [min, max]");
        for (int k = 0; k < contenders.Length; k++)
        {
            Console.WriteLine($"  {contenders[k].Name,-44} {InterleavedRounds.Spread(times[k], "F3")} ms");
        }

        Console.WriteLine($"  {"speed-up over the loop, per round",-44} {InterleavedRounds.Spread(times[0].Zip(times[1], (loop, ours) => loop / ours), "F3")} x");
        Console.WriteLine($"  {"RankSimLoss / traffic floor, per round",-44} {InterleavedRounds.Spread(times[1].Zip(times[2], (ours, floor) => ours / floor), "F3")} x");
    }
}
