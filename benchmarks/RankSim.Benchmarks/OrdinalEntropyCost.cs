using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// Forward + backward of <see cref="OrdinalEntropyLoss"/> beside <see cref="RankSimLoss"/> (the paper's configuration) and
/// the two summed (one backward), interleaved round by round on the same inputs; each cost is also given per round as a
/// ratio to RankSim's, as median and range over the rounds.
/// </summary>
internal static class OrdinalEntropyCost
{
    public static readonly BenchmarkCase[] Cases = [new(64, 512, true), new(256, 2048, true), new(1024, 512, false)];

    public static void Run(BenchmarkCase c, int threads, int rounds, int callsPerRound)
    {
        set_num_threads(threads);
        var (features, labels) = BenchmarkData.Create(c, seed: 1);
        features.requires_grad_();
        var rankSim = new RankSimLoss(FeatureRanking.Blackbox(0.5), generator: new Generator(2));
        var ordinalEntropy = new OrdinalEntropyLoss();
        var contenders = new (string Name, Action Call)[]
        {
            ("RankSimLoss", () => { using var s = NewDisposeScope(); rankSim.call(features, labels).backward(); }),
            ("OrdinalEntropyLoss", () => { using var s = NewDisposeScope(); ordinalEntropy.call(features, labels).backward(); }),
            ("RankSim + OrdinalEntropy", () =>
            {
                using var s = NewDisposeScope();
                (rankSim.call(features, labels) + ordinalEntropy.call(features, labels)).backward();
            }),
        };

        var times = InterleavedRounds.Time(contenders, rounds, _ => callsPerRound, collect: false);

        Console.WriteLine($"{c}, {threads} thread(s); {rounds} interleaved rounds of {callsPerRound} calls: median [min, max]");
        for (int k = 0; k < contenders.Length; k++)
        {
            string ratio = k == 0 ? "" : $"   {InterleavedRounds.Spread(times[k].Zip(times[0], (x, r) => x / r), "F2")} x RankSimLoss";
            Console.WriteLine($"  {contenders[k].Name,-26} {InterleavedRounds.Spread(times[k], "F3")} ms{ratio}");
        }
    }
}
