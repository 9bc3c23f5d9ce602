namespace RankSim.Tests.Dir.Training;

public class RegressorRetrainingTests
{
    [Fact]
    public void StageTwoTrainsOnlyAFreshRegressor()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var encoder = nn.Linear(4, 8);
        var regressor = nn.Linear(8, 1);
        var model = nn.Sequential(("encoder", encoder), ("relu", nn.ReLU()), ("regressor", regressor));
        var encoderBefore = encoder.weight!.detach().clone();
        var regressorBefore = regressor.weight!.detach().clone();

        var trainable = RegressorRetraining.Prepare(model, regressor, new Generator(seed: 9));

        trainable.Should().HaveCount(2);
        encoder.weight!.requires_grad.Should().BeFalse();
        encoder.bias!.requires_grad.Should().BeFalse();
        regressor.weight!.requires_grad.Should().BeTrue();
        regressor.weight!.Doubles().Should().NotEqual(regressorBefore.Doubles(), "the regressor is re-initialized");
        regressor.weight!.abs().max().item<float>().Should().BeLessThanOrEqualTo((float)(1 / Math.Sqrt(8)));

        // Stage two with re-weighted L1: only the regressor moves.
        var x = randn(64, 4);
        var y = randn(64, 1);
        var weights = LabelDistribution.FromLabels(y.round()).Reweight(Reweighting.SqrtInverse).Lookup(y.round());
        var optimizer = optim.SGD(trainable, 0.1);
        var regressorAfterInit = regressor.weight!.detach().clone();
        for (int step = 0; step < 5; step++)
        {
            using var inner = NewDisposeScope();
            optimizer.zero_grad();
            new WeightedL1Loss().call(model.call(x), y, weights.squeeze(1)).backward();
            optimizer.step();
        }

        encoder.weight!.Doubles().Should().Equal(encoderBefore.Doubles());
        regressor.weight!.Doubles().Should().NotEqual(regressorAfterInit.Doubles());
    }

    [Fact]
    public void ARegressorOutsideTheModelIsRejected()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1));
        FluentActions.Invoking(() => RegressorRetraining.Prepare(model, nn.Linear(8, 1))).Should().Throw<ArgumentException>()
            .WithParameterName("regressor");
    }
}
