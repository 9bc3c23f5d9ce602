using System.Text.Json;
using RankSim.Tests.Fixtures;

namespace RankSim.Tests.Losses;

public class BalancedMseTests
{
    private static readonly JsonElement Reference = Golden.Load("loss_reference.json");

    private static JsonElement Case(string name) =>
        Reference.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    [Theory]
    [InlineData("bmc_noise_var1.0")]
    [InlineData("bmc_noise_var4.0")]
    public void BmcValueAndGradientsMatchTheReference(string name)
    {
        using var scope = NewDisposeScope();
        var c = Case(name);
        double noiseVariance = c.GetProperty("noise_var").GetDouble();
        var pred = tensor(Reference.Doubles("pred")).requires_grad_();
        var loss = new BMCLoss(noiseVariance);
        loss.to(ScalarType.Float64);
        var value = loss.call(pred, tensor(Reference.Doubles("target")));
        value.backward();

        value.item<double>().Should().BeApproximately(c.GetProperty("value").GetDouble(), 1e-9);
        pred.grad!.Doubles().Should().Equal(c.Doubles("pred_grad"), (a, e) => Math.Abs(a - e) <= 1e-9);

        // The parameter is sigma (sigma^2 = noise variance): d/d var = d/d sigma / (2 sigma).
        var sigma = loss.parameters().Single();
        double varianceGradient = sigma.grad!.item<double>() / (2 * Math.Sqrt(noiseVariance));
        varianceGradient.Should().BeApproximately(c.GetProperty("noise_var_grad").GetDouble(), 1e-9);
    }

    [Theory]
    [InlineData("gai_noise_var1.0")]
    [InlineData("gai_noise_var4.0")]
    public void GaiValueMatchesTheReference(string name)
    {
        using var scope = NewDisposeScope();
        var c = Case(name);
        var gmm = c.GetProperty("gmm");
        var prior = new GaussianMixture(gmm.Doubles("means"), gmm.Doubles("variances"), gmm.Doubles("weights"));
        var loss = new GAILoss(prior, c.GetProperty("noise_var").GetDouble(), learnable: false);
        loss.to(ScalarType.Float64);
        loss.call(tensor(Reference.Doubles("pred")), tensor(Reference.Doubles("target"))).item<double>()
            .Should().BeApproximately(c.GetProperty("value").GetDouble(), 1e-9);
    }

    [Fact]
    public void LogDensityIsTheLogOfTheWeightedSumOfNormalDensities()
    {
        var mixture = new GaussianMixture([0.0, 3.0], [1.0, 4.0], [0.25, 0.75]);

        // At x = 1: 0.25 N(1; 0, 1) + 0.75 N(1; 3, 4), each N(x; m, v) = exp(-(x - m)^2 / (2 v)) / sqrt(2 pi v).
        double expected = Math.Log((0.25 * Math.Exp(-0.5) / Math.Sqrt(2 * Math.PI)) + (0.75 * Math.Exp(-0.5) / Math.Sqrt(8 * Math.PI)));
        mixture.LogDensity(1.0).Should().BeApproximately(expected, 1e-14);

        // Far in the tail the log stays finite where the densities themselves underflow.
        double.IsFinite(mixture.LogDensity(1e3)).Should().BeTrue();
    }

    [Fact]
    public void LearnableNoiseIsAParameterAndFixedNoiseIsNot()
    {
        new BMCLoss(2.0).parameters().Should().ContainSingle();
        new BMCLoss(2.0, learnable: false).parameters().Should().BeEmpty();
        using var scope = NewDisposeScope();
        new BMCLoss(2.0).NoiseVariance.item<float>().Should().BeApproximately(2.0f, 1e-6f);
    }

    [Fact]
    public void ABatchOfOneIsRejectedByBmc()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => new BMCLoss().call(ones(1), ones(1))).Should().Throw<ArgumentException>()
            .WithParameterName("input").WithMessage("*at least 2*");
    }

    [Fact]
    public void BadInputIsRejected()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => new BMCLoss(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("initialNoiseVariance");
        FluentActions.Invoking(() => new BMCLoss().call(ones(4, 2), ones(4))).Should().Throw<ArgumentException>().WithParameterName("input");
        FluentActions.Invoking(() => new BMCLoss().call(ones(4), ones(3))).Should().Throw<ArgumentException>().WithParameterName("target");
        FluentActions.Invoking(() => new GaussianMixture([1.0], [0.0], [1.0])).Should().Throw<ArgumentException>().WithParameterName("variances");
        FluentActions.Invoking(() => new GaussianMixture([1.0, 2.0], [1.0], [1.0])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new GaussianMixture([1.0, 2.0], [1.0, 1.0], [0.3, 0.3])).Should().Throw<ArgumentException>().WithParameterName("weights");
        FluentActions.Invoking(() => GaussianMixture.FitValues([1.0, 2.0], components: 3)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void EmRecoversAWellSeparatedMixture()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(seed: 3);
        var labels = cat([randn(3000, generator: generator) * 1.0 + 10, randn(1000, generator: generator) * 2.0 + 30], 0);
        var fit = GaussianMixture.Fit(labels, components: 2);
        var order = Enumerable.Range(0, 2).OrderBy(k => fit.Means[k]).ToArray();
        fit.Means[order[0]].Should().BeApproximately(10, 0.1);
        fit.Means[order[1]].Should().BeApproximately(30, 0.3);
        fit.Variances[order[0]].Should().BeApproximately(1, 0.1);
        fit.Variances[order[1]].Should().BeApproximately(4, 0.5);
        fit.Weights[order[0]].Should().BeApproximately(0.75, 0.02);
    }
}
