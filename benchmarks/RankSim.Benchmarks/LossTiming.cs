using System.Diagnostics;
using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// RankSimLoss forward + backward alone, as a training loop calls it (gradients accumulate into the features' .grad):
/// the median time per call over rounds. For comparing two builds of the library, run alternately in separate processes.
/// </summary>
internal static class LossTiming
{
    public static void Run(BenchmarkCase c, int rounds, int callsPerRound)
    {
        set_num_threads(Environment.ProcessorCount);
        var (features, labels) = BenchmarkData.Create(c, seed: 1);
        features.requires_grad_();
        var loss = new RankSimLoss(generator: new Generator(2));
        void Call()
        {
            using var scope = NewDisposeScope();
            loss.call(features, labels).backward();
        }

        for (int i = 0; i < callsPerRound; i++)
        {
            Call();
        }

        var perCall = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < callsPerRound; i++)
            {
                Call();
            }

            perCall.Add(watch.Elapsed.TotalMilliseconds / callsPerRound);
        }

        perCall.Sort();
        Console.WriteLine($"{c}: median {perCall[perCall.Count / 2]:F3} ms per call [{perCall[0]:F3}, {perCall[^1]:F3}] over {rounds} rounds of {callsPerRound}");
    }
}
