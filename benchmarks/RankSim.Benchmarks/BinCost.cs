using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// What a label bin width saves: RankSimLoss forward + backward with one sample per distinct label (continuous labels in
/// [0, 100): every sample kept) and with one per bin of the given width, interleaved round by round in one process
/// (<see cref="InterleavedRounds"/>, after one warm-up call each); medians and ranges, and the ratio per round.
/// </summary>
internal static class BinCost
{
    public static void Run(int batchSize, int featureDim, int threads, int rounds, double binWidth)
    {
        set_num_threads(threads);
        var (features, labels) = BenchmarkData.Create(new BenchmarkCase(batchSize, featureDim, AgeLike: false), seed: 1);
        features.requires_grad_();
        var exact = new RankSimLoss(generator: new Generator(2));
        var binned = new RankSimLoss(generator: new Generator(2), labelBinWidth: binWidth);
        long kept;
        using (NewDisposeScope())
        {
            kept = new RankSimLoss(reduction: nn.Reduction.None, labelBinWidth: binWidth).call(features, labels).size(0);
        }

        var contenders = new (string Name, Action Call)[]
        {
            ("one sample per distinct label", () => { using var s = NewDisposeScope(); exact.call(features, labels).backward(); }),
            ($"one sample per bin of width {binWidth}", () => { using var s = NewDisposeScope(); binned.call(features, labels).backward(); }),
        };
        foreach (var (_, call) in contenders)
        {
            call();   // warm-up, not timed
        }

        var times = InterleavedRounds.Time(contenders, rounds, _ => 1, collect: true);
        Console.WriteLine($"continuous labels in [0, 100), B = {batchSize}, D = {featureDim}, {threads} thread(s), M = {batchSize} and {kept}; {rounds} interleaved rounds: median [min, max]");
        for (int k = 0; k < contenders.Length; k++)
        {
            Console.WriteLine($"  {contenders[k].Name,-40} {InterleavedRounds.Spread(times[k], "F2")} ms");
        }

        Console.WriteLine($"  {"distinct / binned, per round",-40} {InterleavedRounds.Spread(times[0].Zip(times[1], (e, b) => e / b), "F1")} x");
    }
}
