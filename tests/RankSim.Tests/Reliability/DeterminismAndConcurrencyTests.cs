using TorchSharp.Modules;

namespace RankSim.Tests.Reliability;

/// <summary>Bitwise reproducibility on the CPU, thread independence, and checkpoint round trips.</summary>
public abstract class DeterminismAndConcurrencyTests(bool referencePath) : BothPaths(referencePath)
{
    /// <summary>Encoder -> FDS -> regressor: a model whose state includes FDS statistics.</summary>
    private sealed class FdsRegressor : nn.Module<Tensor, Tensor, (Tensor Pred, Tensor Features)>
    {
        private readonly Sequential encoder = nn.Sequential(nn.Linear(6, 16), nn.ReLU());
        private readonly FeatureDistributionSmoothing fds = new(16, LabelBinning.Integers(0, 9), new KernelWindow(size: 3, sigma: 1));
        private readonly Linear head = nn.Linear(16, 1);

        public FdsRegressor() : base(nameof(FdsRegressor)) => RegisterComponents();

        public FeatureDistributionSmoothing Fds => fds;

        public override (Tensor Pred, Tensor Features) forward(Tensor x, Tensor labels)
        {
            var features = encoder.call(x);
            var smoothed = fds.call(features, labels);
            return (head.call(smoothed), features);
        }
    }

    private static (Tensor X, Tensor Y) Data()
    {
        var generator = new Generator(99);
        var y = randint(0, 10, 480, generator: generator);
        var x = randn(480, 6, generator: generator) + y.unsqueeze(1).to(ScalarType.Float32) / 3;
        return (x, y);
    }

    /// <summary>Three epochs of L1 + RankSim with LDS weights and FDS; returns every loss value and the final parameters.</summary>
    private static (double[] Losses, double[] Parameters) Train(IDictionary<string, Tensor> initialState, int seed)
    {
        using var scope = NewDisposeScope();
        var (x, y) = Data();
        var model = new FdsRegressor();
        model.load_state_dict(new Dictionary<string, Tensor>(initialState));
        var weights = LabelDistribution.FromLabels(y).Reweight(Reweighting.SqrtInverse, new KernelWindow());
        var rankSim = new RankSimLoss(FeatureRanking.Blackbox(0.5), generator: new Generator((ulong)seed));
        var optimizer = optim.Adam(model.parameters(), 1e-2);
        var losses = new List<double>();
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var epochFeatures = new List<(Tensor, Tensor)>();
            for (int start = 0; start < 480; start += 60)
            {
                var xb = x[TensorIndex.Slice(start, start + 60)];
                var yb = y[TensorIndex.Slice(start, start + 60)];
                var (pred, features) = model.call(xb, yb);
                var loss = new WeightedL1Loss().call(pred.squeeze(1), yb.to(ScalarType.Float32), weights.Lookup(yb)) + rankSim.call(features, yb);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                losses.Add(loss.item<float>());
                epochFeatures.Add((features.detach(), yb));
            }

            model.Fds.EndEpoch(epochFeatures);
        }

        var parameters = model.parameters().SelectMany(p => p.Doubles()).Concat(model.Fds.SmoothedMean.Doubles()).ToArray();
        return (losses.ToArray(), parameters);
    }

    private static Dictionary<string, Tensor> InitialState()
    {
        manual_seed(5);
        return new FdsRegressor().state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }

    [Fact]
    public void TheSameSeedAndInputsGiveBitwiseIdenticalLossAndGradients()
    {
        using var scope = NewDisposeScope();
        var features = randn(200, 32, generator: new Generator(1));
        var labels = randint(0, 50, 200, generator: new Generator(2));
        (float Loss, float[] Gradient) Once()
        {
            var leaf = features.clone().requires_grad_();
            var loss = new RankSimLoss(generator: new Generator(3)).call(leaf, labels);
            loss.backward();
            return (loss.item<float>(), leaf.grad!.Floats());
        }

        var first = Once();
        for (int run = 0; run < 5; run++)
        {
            var again = Once();
            BitConverter.SingleToInt32Bits(again.Loss).Should().Be(BitConverter.SingleToInt32Bits(first.Loss));
            again.Gradient.Select(BitConverter.SingleToInt32Bits).Should().Equal(first.Gradient.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void TwoThreadsTrainingAtOnceGetTheResultsOfTwoSequentialRuns()
    {
        var state = InitialState();
        var sequentialA = Train(state, seed: 1);
        var sequentialB = Train(state, seed: 2);

        var results = new (double[] Losses, double[] Parameters)[2];
        var threads = new[] { 0, 1 }.Select(i => new Thread(() => results[i] = Train(state, seed: i + 1))).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        results[0].Losses.Should().Equal(sequentialA.Losses);
        results[0].Parameters.Should().Equal(sequentialA.Parameters);
        results[1].Losses.Should().Equal(sequentialB.Losses);
        results[1].Parameters.Should().Equal(sequentialB.Parameters);
        sequentialA.Losses.Should().NotEqual(sequentialB.Losses, "the two runs sample differently");
    }

    [Fact]
    public void AModelWithFdsSurvivesASaveAndLoadRoundTrip()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Data();
        manual_seed(6);
        var model = new FdsRegressor();
        var (_, features) = model.call(x, y);
        model.Fds.UpdateStatistics(features.detach(), y);
        model.Fds.EndEpoch();

        string path = Path.Combine(Path.GetTempPath(), $"fds-model-{Guid.NewGuid():N}.bin");
        try
        {
            model.save(path);
            manual_seed(7);
            var restored = new FdsRegressor();
            restored.load(path);
            foreach (bool training in new[] { true, false })
            {
                model.train(training);
                restored.train(training);
                restored.call(x, y).Pred.Floats().Should().Equal(model.call(x, y).Pred.Floats(), $"training mode {training}");
            }

            restored.Fds.CurrentEpoch.Should().Be(1);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary><see cref="DeterminismAndConcurrencyTests"/> with the CPU kernels.</summary>
public sealed class DeterminismAndConcurrencyWithKernelsTests() : DeterminismAndConcurrencyTests(referencePath: false);

/// <summary><see cref="DeterminismAndConcurrencyTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class DeterminismAndConcurrencyOnReferencePathTests() : DeterminismAndConcurrencyTests(referencePath: true);
