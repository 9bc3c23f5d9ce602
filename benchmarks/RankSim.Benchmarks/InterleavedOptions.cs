using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// Forward + backward of RankSimLoss with each option beyond the paper against the paper's configuration, interleaved
/// round by round (<see cref="InterleavedRounds"/>) on the same inputs; each option's cost is taken per round as a ratio
/// to the paper's and reported as median and range over the rounds.
/// </summary>
internal static class InterleavedOptions
{
    public static void Run(BenchmarkCase c, int threads, int rounds, int callsPerRound)
    {
        set_num_threads(threads);
        var (features, labels) = BenchmarkData.Create(c, seed: 1);
        features.requires_grad_();
        RankSimLoss Loss(FeatureSimilarity similarity, FeatureRanking ranking) => new(ranking, similarity, generator: new Generator(2));
        var configurations = new (string Name, RankSimLoss Loss)[]
        {
            ("Paper (blackbox, cosine)", Loss(FeatureSimilarity.Cosine, FeatureRanking.Blackbox())),
            ("PerRow", Loss(FeatureSimilarity.Cosine, FeatureRanking.Blackbox(scaling: PerturbationScaling.PerRow))),
            ("CenteredCosine", Loss(FeatureSimilarity.CenteredCosine, FeatureRanking.Blackbox())),
            ("Soft", Loss(FeatureSimilarity.Cosine, FeatureRanking.Soft())),
            ("Soft + CenteredCosine", Loss(FeatureSimilarity.CenteredCosine, FeatureRanking.Soft())),
        };
        var contenders = configurations
            .Select(k => (k.Name, (Action)(() => { using var s = NewDisposeScope(); k.Loss.call(features, labels).backward(); })))
            .ToArray();

        var times = InterleavedRounds.Time(contenders, rounds, _ => callsPerRound, collect: false);

        Console.WriteLine($"{c}, {threads} thread(s); {rounds} interleaved rounds of {callsPerRound} calls: median [min, max]");
        for (int k = 0; k < contenders.Length; k++)
        {
            string ratio = k == 0 ? "" : $"   {InterleavedRounds.Spread(times[k].Zip(times[0], (option, paper) => option / paper), "F2")} x paper";
            Console.WriteLine($"  {contenders[k].Name,-26} {InterleavedRounds.Spread(times[k], "F3")} ms{ratio}");
        }
    }
}
