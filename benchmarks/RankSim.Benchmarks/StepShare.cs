using System.Diagnostics;
using RankSim.Dir;
using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// RankSim's share of one training step of the QuickStart model (8 -> 64 -> 64 -> 1 MLP, batch 256, SQINV + LDS weighted
/// L1, Adam): steps without and with RankSim (gamma 0.1, lambda 0.5), interleaved so that the machine's drifts hit both
/// alike, compared by their medians.
/// </summary>
internal static class StepShare
{
    public static void Run(int steps)
    {
        const int Samples = 6000, BatchSize = 256;
        manual_seed(0);
        var t = distributions.Exponential(tensor(1.0f / 8)).sample(Samples).clamp(0, 59).floor();
        var phi = stack([t / 60, (t / 60).square(), (t / 8).sin(), (t / 8).cos()], dim: 1);
        var x = phi.mm(randn(4, 8)) + 0.1 * randn(Samples, 8);
        var weights = LabelDistribution.FromLabels(t).Reweight(Reweighting.SqrtInverse, lds: new KernelWindow());
        var encoder = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU());
        var head = nn.Linear(64, 1);
        var rankSim = ranksim.nn.RankSimLoss(FeatureRanking.Blackbox(0.5));
        var l1 = ranksim.nn.WeightedL1Loss();
        var optimizer = optim.Adam(encoder.parameters().Concat(head.parameters()), lr: 3e-3);

        void Step(Tensor index, bool withRankSim)
        {
            using var scope = NewDisposeScope();
            var (xb, yb) = (x[index], t[index]);
            var features = encoder.call(xb);
            var loss = l1.call(head.call(features).squeeze(1), yb, weights.Lookup(yb));
            if (withRankSim)
            {
                loss = loss + 0.1 * rankSim.call(features, yb);
            }

            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }

        var without = new List<double>();
        var with = new List<double>();
        for (int i = -20; i < steps; i++)
        {
            foreach (bool withRankSim in new[] { false, true })
            {
                using var scope = NewDisposeScope();
                var batch = randperm(Samples)[..BatchSize];
                var watch = Stopwatch.StartNew();
                Step(batch, withRankSim);
                if (i >= 0)
                {
                    (withRankSim ? with : without).Add(watch.Elapsed.TotalMilliseconds);
                }
            }
        }

        double plain = without.Order().ElementAt(without.Count / 2);
        double regularized = with.Order().ElementAt(with.Count / 2);
        Console.WriteLine(
            $"QuickStart training step (medians of {steps} interleaved steps, {get_num_threads()} threads): {plain:F2} ms without RankSim, " +
            $"{regularized:F2} ms with it; RankSim takes {100 * (regularized - plain) / regularized:F0}% of the step");
    }
}
