using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// RankSimLoss forward + backward against its arithmetic-and-allocation floor, interleaved round by round
/// (<see cref="InterleavedRounds"/>). The floor is what any exact implementation does: gather the M kept rows,
/// L2-normalize them, S = n n^T, the backward product (G + G^T) n, and a fresh zero-filled [B, D] gradient with the kept
/// rows written into it. RankSimLoss runs as a training loop calls it (a fresh leaf each call, so the [B, D] gradient is
/// a new tensor every step) and accumulating into the same leaf's .grad; the ratios to the floor are taken per round.
/// </summary>
internal static class FloorRatio
{
    /// <summary>The shapes measured: age-like B = 64 and 256 at D = 512, B = 256 at D = 2048, and continuous B = 1024, D = 512.</summary>
    public static readonly BenchmarkCase[] Cases =
    [
        new(64, 512, true), new(256, 512, true), new(256, 2048, true), new(1024, 512, false),
    ];

    public static void Run(BenchmarkCase c, int threads, int rounds, int callsPerRound)
    {
        var (features, labels, generator, loss) = BenchmarkData.Probe(c, threads);
        var detached = features.detach();
        var kept = DistinctLabelSampler.Sample(labels.to(ScalarType.Float64).reshape(-1, 1), new Generator(3))
            ?? arange(labels.shape[0], dtype: ScalarType.Int64);
        long m = kept.shape[0];
        var upstream = randn(m, m, generator: new Generator(4)) * 1e-3;
        var contenders = new (string Name, Action Call)[]
        {
            ("floor (gather, normalize, 2 products, fresh gradient)", () =>
            {
                using var scope = NewDisposeScope();
                var n = nn.functional.normalize(detached.index_select(0, kept), p: 2, dim: 1);
                n.mm(n.t());
                var rows = (upstream + upstream.t()).mm(n);
                zeros_like(detached).index_copy_(0, kept, rows);
            }),
            ("RankSimLoss, fresh leaf each call", () =>
            {
                using var scope = NewDisposeScope();
                var leaf = detached.detach().requires_grad_();
                loss.call(leaf, labels).backward();
                leaf.grad!.Dispose();
            }),
            ("RankSimLoss, accumulating into .grad", () =>
            {
                using var scope = NewDisposeScope();
                loss.call(features, labels).backward();
            }),
        };

        var times = InterleavedRounds.Time(contenders, rounds, _ => callsPerRound, collect: false);
        Console.WriteLine($"{c} (M = {m}), {threads} thread(s); {rounds} interleaved rounds of {callsPerRound} calls: median [min, max]");
        for (int k = 0; k < contenders.Length; k++)
        {
            Console.WriteLine($"  {contenders[k].Name,-56} {InterleavedRounds.Spread(times[k], "F3")} ms");
        }

        Console.WriteLine($"  {"fresh leaf / floor, per round",-56} {InterleavedRounds.Spread(times[1].Zip(times[0], (ours, floor) => ours / floor), "F2")} x");
        Console.WriteLine($"  {"accumulating / floor, per round",-56} {InterleavedRounds.Spread(times[2].Zip(times[0], (ours, floor) => ours / floor), "F2")} x");
    }
}
