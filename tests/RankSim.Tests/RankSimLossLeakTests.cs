namespace RankSim.Tests;

[Collection(SerialCollection.Name)]
public class RankSimLossLeakTests
{
    [Fact]
    public void ThousandForwardBackwardCallsLeaveNoTensorAlive()
    {
        var features = randn(24, 8).requires_grad_();
        var labels = randint(0, 10, 24);
        var loss = new RankSimLoss(generator: new Generator(seed: 1));

        void Step()
        {
            using var scope = NewDisposeScope();
            loss.call(features, labels).backward();
            features.grad!.zero_();
        }

        Step();
        long before = Tensor.TotalCount;
        for (int i = 0; i < 1000; i++)
        {
            Step();
        }

        Tensor.TotalCount.Should().Be(before);
    }
}
