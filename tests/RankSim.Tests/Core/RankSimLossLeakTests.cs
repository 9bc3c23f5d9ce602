namespace RankSim.Tests.Core;

public abstract class RankSimLossLeakTests(bool referencePath) : BothPaths(referencePath)
{
    [Theory]
    [InlineData(FeatureSimilarity.Cosine, false)]
    [InlineData(FeatureSimilarity.CenteredCosine, false)]
    [InlineData(FeatureSimilarity.Cosine, true)]
    [InlineData(FeatureSimilarity.CenteredCosine, true)]
    public void ThousandForwardBackwardCallsLeaveNoTensorAlive(FeatureSimilarity similarity, bool softRanks)
    {
        var features = randn(24, 8).requires_grad_();
        var labels = randint(0, 10, 24);
        FeatureRanking ranking = softRanks ? FeatureRanking.Soft() : FeatureRanking.Blackbox();
        var loss = new RankSimLoss(ranking, similarity, generator: new Generator(seed: 1));

        void Step()
        {
            using var scope = NewDisposeScope();
            loss.call(features, labels).backward();
            features.grad!.zero_();
        }

        Step();
        long before = LiveTensorsOnThisThread();
        for (int i = 0; i < 1000; i++)
        {
            Step();
        }

        LiveTensorsOnThisThread().Should().Be(before);
    }

    /// <summary>Tensors created minus tensors disposed on this thread (a finalizer on another thread does not count).</summary>
    private static long LiveTensorsOnThisThread() => DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
}

/// <summary><see cref="RankSimLossLeakTests"/> with the CPU kernels.</summary>
[Collection(SerialCollection.Name)]
public sealed class RankSimLossLeakWithKernelsTests() : RankSimLossLeakTests(referencePath: false);

/// <summary><see cref="RankSimLossLeakTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
[Collection(SerialCollection.Name)]
public sealed class RankSimLossLeakOnReferencePathTests() : RankSimLossLeakTests(referencePath: true);
