using System.Diagnostics;
using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// RankSimLoss against the loop baseline and the two floors, measured A, B, A, B, ... in one process: each round times
/// a batch of calls of every contender back to back, so the machine's noise (this VM moves 10-40% between runs) hits
/// them alike; the speed-up is taken per round and reported as median and range over the rounds.
/// </summary>
internal static class InterleavedRatio
{
    public static void Run(BenchmarkCase c, int threads, int rounds, int callsPerRound)
    {
        set_num_threads(threads);
        var (features, labels) = BenchmarkData.Create(c, seed: 1);
        features.requires_grad_();
        var generator = new Generator(2);
        var loss = new RankSimLoss(generator: generator);
        var detached = features.detach();
        var contenders = new (string Name, Action Call)[]
        {
            ("loop baseline", () => { using var s = NewDisposeScope(); LoopBaseline.Loss(features, labels, 2.0, generator).backward(); }),
            ("RankSimLoss", () => { using var s = NewDisposeScope(); loss.call(features, labels).backward(); }),
            ("traffic floor (read and write [B, D] once)", () => detached.mul(2f).Dispose()),
        };

        var times = contenders.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < contenders.Length; k++)
            {
                contenders[k].Call();
                int calls = k == 0 ? Math.Max(1, callsPerRound / 10) : callsPerRound;
                var watch = Stopwatch.StartNew();
                for (int i = 0; i < calls; i++)
                {
                    contenders[k].Call();
                }

                times[k].Add(watch.Elapsed.TotalMilliseconds / calls);
            }
        }

        static string Spread(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return $"{sorted[sorted.Length / 2],8:F3}  [{sorted[0]:F3}, {sorted[^1]:F3}]";
        }

        Console.WriteLine($"{c}, {threads} thread(s); {rounds} interleaved rounds: median [min, max]");
        for (int k = 0; k < contenders.Length; k++)
        {
            Console.WriteLine($"  {contenders[k].Name,-44} {Spread(times[k])} ms");
        }

        Console.WriteLine($"  {"speed-up over the loop, per round",-44} {Spread(times[0].Zip(times[1], (loop, ours) => loop / ours))} x");
        Console.WriteLine($"  {"RankSimLoss / traffic floor, per round",-44} {Spread(times[1].Zip(times[2], (ours, floor) => ours / floor))} x");
    }
}
