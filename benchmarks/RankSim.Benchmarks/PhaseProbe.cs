using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// Where the time of one RankSimLoss forward + backward goes, phase by phase, with the memory-traffic and matrix floors
/// next to it, the phases interleaved round by round (<see cref="InterleavedRounds"/>); medians and ranges over the rounds.
/// </summary>
internal static class PhaseProbe
{
    public static void Run(BenchmarkCase c, int threads, int rounds, int callsPerRound)
    {
        var (features, labels, generator, loss) = BenchmarkData.Probe(c, threads);
        var perRowLoss = new RankSimLoss(FeatureRanking.Blackbox(scaling: PerturbationScaling.PerRow), generator: new Generator(2));
        // The labels as RankSimLoss ranks them: floating labels in their dtype, integer labels in float64.
        var y = (labels.is_floating_point() ? labels : labels.to(ScalarType.Float64)).reshape(-1, 1);
        // Continuous labels keep every sample: the sampler then returns null (all rows).
        var kept = DistinctLabelSampler.Sample(y, generator);
        var keptLabels = kept is null ? y : y.index_select(0, kept);
        long m = keptLabels.size(0);
        var labelRanks = LabelRankMatrix.FromLabels(keptLabels, RankTies.IndexOrder, integerLabels: !labels.is_floating_point());
        var detached = features.detach();
        var normalized = nn.functional.normalize(kept is null ? detached : detached.index_select(0, kept), dim: 1);
        var upstream = randn(m, m, generator: new Generator(3));
        var phases = new (string Name, Action Call)[]
        {
            ("traffic floor: read [B, D] once, write [B, D] once", () => detached.mul(2f).Dispose()),
            ("traffic floor, forward: read the kept rows once", () => (kept is null ? detached.clone() : detached.index_select(0, kept)).Dispose()),
            ("matrix floor: n n^T of the kept rows [M, D]", () => normalized.mm(normalized.t()).Dispose()),
            ("matrix floor: (G + G^T) n, [M, M] x [M, D]", () => upstream.mm(normalized).Dispose()),
            ("finite check of [B, D]", () => InputValidation.RequireFinite(features, "features")),
            ("sample distinct labels", () => DistinctLabelSampler.Sample(y, generator)?.Dispose()),
            ("label ranks as a matrix [M, M] (the CPU objective reads rows)", () => LabelSimilarity.DistanceRanks(keptLabels, RankTies.IndexOrder).Dispose()),
            ("similarity forward (gather, normalize, n n^T)", () => { using var s = NewDisposeScope(); SimilarityMatrix.Pairwise(detached, FeatureSimilarity.Cosine, kept); }),
            ("similarity + objective forward", () => { using var s = NewDisposeScope(); RankSimObjective.Blackbox(SimilarityMatrix.Pairwise(detached, FeatureSimilarity.Cosine, kept), labelRanks, 2.0, nn.Reduction.Sum, PerturbationScaling.Paper); }),
            ("RankSimLoss forward", () => { using var s = NewDisposeScope(); loss.call(features, labels); }),
            ("RankSimLoss forward + backward, .grad = null", () => { features.grad?.Dispose(); features.grad = null; using var s = NewDisposeScope(); loss.call(features, labels).backward(); }),
            ("RankSimLoss forward + backward, accumulating into .grad", () => { using var s = NewDisposeScope(); loss.call(features, labels).backward(); }),
            ("  the same, PerturbationScaling.PerRow", () => { using var s = NewDisposeScope(); perRowLoss.call(features, labels).backward(); }),
        };

        var times = InterleavedRounds.Time(phases, rounds, _ => callsPerRound, collect: true);
        Console.WriteLine($"{c}, {threads} thread(s), M = {m} kept rows; {rounds} interleaved rounds of {callsPerRound} calls: median [min, max] ms per call");
        for (int p = 0; p < phases.Length; p++)
        {
            Console.WriteLine($"  {phases[p].Name,-58} {InterleavedRounds.Spread(times[p], "F4")}");
        }
    }
}
