using System.Security.Cryptography;
using RankSim.Dir;
using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// Long-running checks of the training path that a loss lives in: <see cref="Run"/> trains with RankSim, LDS weights and
/// FDS and reports resident memory and live tensors; <see cref="Fingerprint"/> prints a hash of one loss and gradient
/// computation, for comparing processes.
/// </summary>
internal static class Soak
{
    /// <summary>
    /// Trains an MLP with L1 (LDS-weighted) + RankSim and FDS for <paramref name="steps"/> steps, printing the process's
    /// resident memory and live tensor count every <paramref name="every"/> steps. Returns false when asked to assert
    /// flatness and the live tensor count after the first report changed.
    /// </summary>
    public static bool Run(int steps, int every, bool assertFlat)
    {
        manual_seed(0);
        var y = randint(0, 40, 4096);
        var x = randn(4096, 16) + y.unsqueeze(1).to(ScalarType.Float32) / 10;
        var encoder = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 32));
        var binning = LabelBinning.Integers(0, 39);
        var fds = new FeatureDistributionSmoothing(32, binning);
        var head = nn.Linear(32, 1);
        var weights = LabelDistribution.FromLabels(y, binning).Reweight(Reweighting.SqrtInverse, new KernelWindow());
        var rankSim = new RankSimLoss(FeatureRanking.Blackbox(0.5), generator: new Generator(1));
        var l1 = new WeightedL1Loss();
        var optimizer = optim.Adam(encoder.parameters().Concat(head.parameters()), 1e-3);
        const int stepsPerEpoch = 50;
        long? firstLive = null;
        bool flat = true;
        var epochFeatures = new List<(Tensor, Tensor)>();
        for (int step = 1; step <= steps; step++)
        {
            using (var scope = NewDisposeScope())
            {
                var index = randint(0, 4096, 64);
                var (xb, yb) = (x[index], y[index]);
                var features = encoder.call(xb);
                var pred = head.call(fds.call(features, yb)).squeeze(1);
                var loss = l1.call(pred, yb.to(ScalarType.Float32), weights.Lookup(yb)) + rankSim.call(features, yb);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                var kept = (features.detach().clone(), yb.clone());
                scope.MoveToOuter(kept.Item1, kept.Item2);
                epochFeatures.Add(kept);
            }

            if (step % stepsPerEpoch == 0)
            {
                fds.EndEpoch(epochFeatures);
                epochFeatures.ForEach(b => { b.Item1.Dispose(); b.Item2.Dispose(); });
                epochFeatures.Clear();
            }

            if (step % every == 0)
            {
                long live = Tensor.TotalCount;
                firstLive ??= live;
                flat &= live == firstLive;
                Console.WriteLine($"soak: step {step,6}  resident {ResidentMiB(),7:F1} MiB  live tensors {live}");
            }
        }

        if (assertFlat)
        {
            Console.WriteLine(flat ? "soak: live tensor count flat" : "soak: FAIL live tensor count changed");
        }

        return !assertFlat || flat;
    }

    /// <summary>SHA-256 of the loss and the feature gradient of one fixed RankSim call.</summary>
    public static string Fingerprint()
    {
        using var scope = NewDisposeScope();
        var features = randn(300, 64, generator: new Generator(11)).requires_grad_();
        var labels = randint(0, 60, 300, generator: new Generator(12));
        var loss = new RankSimLoss(generator: new Generator(13)).call(features, labels);
        loss.backward();
        var bytes = loss.detach().reshape(1).data<float>().ToArray().Concat(features.grad!.data<float>().ToArray())
            .SelectMany(BitConverter.GetBytes).ToArray();
        return Convert.ToHexString(SHA256.HashData(bytes));
    }

    private static double ResidentMiB()
    {
        const string path = "/proc/self/status";
        var line = File.Exists(path) ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)) : null;
        return line is null ? double.NaN : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}
