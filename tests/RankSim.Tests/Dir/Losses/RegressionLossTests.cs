using System.Text.Json;
using RankSim.Tests.Fixtures;

namespace RankSim.Tests.Dir.Losses;

public class RegressionLossTests
{
    private static readonly JsonElement Reference = Golden.Load("loss_reference.json");

    private static JsonElement Case(string name) =>
        Reference.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static (Tensor Pred, Tensor Target, Tensor Weights) Inputs() =>
        (tensor(Reference.Doubles("pred")), tensor(Reference.Doubles("target")), tensor(Reference.Doubles("weights")));

    [Fact]
    public void WeightedMseL1AndHuberMatchTheReference()
    {
        using var scope = NewDisposeScope();
        var (pred, target, weights) = Inputs();
        new WeightedMSELoss().call(pred, target, weights).item<double>().Should().BeApproximately(Case("weighted_mse").GetProperty("value").GetDouble(), 1e-12);
        new WeightedL1Loss().call(pred, target, weights).item<double>().Should().BeApproximately(Case("weighted_l1").GetProperty("value").GetDouble(), 1e-12);
        foreach (var name in new[] { "weighted_huber_beta1.0", "weighted_huber_beta0.5" })
        {
            var c = Case(name);
            new WeightedHuberLoss(c.GetProperty("beta").GetDouble()).call(pred, target, weights).item<double>()
                .Should().BeApproximately(c.GetProperty("value").GetDouble(), 1e-12, name);
        }
    }

    [Theory]
    [InlineData("weighted_focal_l1_sigmoid_b0.2_g1.0")]
    [InlineData("weighted_focal_mse_sigmoid_b0.2_g1.0")]
    [InlineData("weighted_focal_l1_sigmoid_b20.0_g1.0")]
    [InlineData("weighted_focal_mse_sigmoid_b20.0_g1.0")]
    [InlineData("weighted_focal_l1_tanh_b0.2_g1.0")]
    [InlineData("weighted_focal_mse_tanh_b0.2_g1.0")]
    [InlineData("weighted_focal_l1_tanh_b20.0_g1.0")]
    [InlineData("weighted_focal_mse_tanh_b20.0_g1.0")]
    public void FocalRMatchesTheReference(string name)
    {
        using var scope = NewDisposeScope();
        var c = Case(name);
        var (pred, target, weights) = Inputs();
        var loss = new FocalRLoss(
            name.Contains("_mse_") ? FocalRBase.MSE : FocalRBase.L1,
            c.GetProperty("activate").GetString() == "tanh" ? FocalRActivation.Tanh : FocalRActivation.Sigmoid,
            c.GetProperty("beta").GetDouble(),
            c.GetProperty("gamma").GetDouble());
        loss.call(pred, target, weights).item<double>().Should().BeApproximately(c.GetProperty("value").GetDouble(), 1e-12);
    }

    [Fact]
    public void WithoutWeightsTheLossesAreTheirPlainMeans()
    {
        using var scope = NewDisposeScope();
        var (pred, target, _) = Inputs();
        new WeightedMSELoss().call(pred, target, null).item<double>().Should().BeApproximately(nn.functional.mse_loss(pred, target).item<double>(), 1e-12);
        new WeightedL1Loss().call(pred, target, null).item<double>().Should().BeApproximately(nn.functional.l1_loss(pred, target).item<double>(), 1e-12);
        new WeightedHuberLoss(0.7).call(pred, target, null).item<double>()
            .Should().BeApproximately(nn.functional.smooth_l1_loss(pred, target, beta: 0.7).item<double>(), 1e-12);
    }

    [Fact]
    public void FocalRWithGammaZeroIsThePlainLoss()
    {
        using var scope = NewDisposeScope();
        var (pred, target, weights) = Inputs();
        new FocalRLoss(FocalRBase.MSE, gamma: 0).call(pred, target, weights).item<double>()
            .Should().BeApproximately(new WeightedMSELoss().call(pred, target, weights).item<double>(), 1e-12);
    }

    [Fact]
    public void PerSampleWeightsBroadcastOverAColumnOfPredictions()
    {
        using var scope = NewDisposeScope();
        var (pred, target, weights) = Inputs();
        new WeightedL1Loss().call(pred.unsqueeze(1), target.unsqueeze(1), weights).item<double>()
            .Should().BeApproximately(new WeightedL1Loss().call(pred, target, weights).item<double>(), 1e-12);
    }

    [Fact]
    public void ReductionsSumAndNone()
    {
        using var scope = NewDisposeScope();
        var (pred, target, weights) = Inputs();
        var none = new WeightedMSELoss(nn.Reduction.None).call(pred, target, weights);
        none.shape.Should().Equal(12);
        new WeightedMSELoss(nn.Reduction.Sum).call(pred, target, weights).item<double>().Should().BeApproximately(none.sum().item<double>(), 1e-12);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        using var scope = NewDisposeScope();
        var loss = new WeightedL1Loss();
        FluentActions.Invoking(() => loss.call(ones(3), ones(4), null)).Should().Throw<ArgumentException>().WithParameterName("target");
        FluentActions.Invoking(() => loss.call(ones(3), ones(3), ones(2))).Should().Throw<ArgumentException>().WithParameterName("weights");
        FluentActions.Invoking(() => loss.call(ones(3, dtype: ScalarType.Int64), ones(3), null)).Should().Throw<ArgumentException>().WithParameterName("input");
        FluentActions.Invoking(() => loss.call(null!, ones(3), null)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new WeightedHuberLoss(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("beta");
        FluentActions.Invoking(() => new FocalRLoss(beta: -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("beta");
        FluentActions.Invoking(() => new FocalRLoss(gamma: -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("gamma");
        FluentActions.Invoking(() => new FocalRLoss((FocalRBase)3)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("baseLoss");
        FluentActions.Invoking(() => new WeightedMSELoss((nn.Reduction)9)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("reduction");
    }
}
