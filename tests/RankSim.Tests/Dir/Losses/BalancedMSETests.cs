using System.Text.Json;
using RankSim.Tests.Fixtures;

namespace RankSim.Tests.Dir.Losses;

public class BalancedMSETests
{
    private static readonly JsonElement Reference = Golden.Load("loss_reference.json");

    private static JsonElement Case(string name) =>
        Reference.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    [Theory]
    [InlineData("bmc_noise_var1.0")]
    [InlineData("bmc_noise_var4.0")]
    public void BmcFromSigmaMatchesTheReferenceValueAndGradients(string name)
    {
        using var scope = NewDisposeScope();
        var c = Case(name);
        double noiseVariance = c.GetProperty("noise_var").GetDouble();
        var pred = tensor(Reference.Doubles("pred")).requires_grad_();
        var loss = new BMCLoss(initialNoiseSigma: Math.Sqrt(noiseVariance));
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
    public void GaiFromSigmaMatchesTheReference(string name)
    {
        using var scope = NewDisposeScope();
        var c = Case(name);
        var gmm = c.GetProperty("gmm");
        var prior = new GaussianMixture(gmm.Doubles("means"), gmm.Doubles("variances"), gmm.Doubles("weights"));
        var loss = new GAILoss(prior, initialNoiseSigma: Math.Sqrt(c.GetProperty("noise_var").GetDouble()), learnable: false);
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
        new BMCLoss(2.0).NoiseVariance.item<float>().Should().Be(4.0f);
    }

    [Fact]
    public void TheConstructorTakesSigmaAsTheReferencesInitNoiseSigmaDoes()
    {
        // BMCLoss(init_noise_sigma=8.) in the reference starts at sigma 8, noise variance 64.
        using var scope = NewDisposeScope();
        var bmc = new BMCLoss(initialNoiseSigma: 8.0);
        bmc.NoiseSigma.item<float>().Should().Be(8.0f);
        bmc.NoiseVariance.item<float>().Should().Be(64.0f);
        new GAILoss(new GaussianMixture([0.0], [1.0], [1.0]), initialNoiseSigma: 8.0).NoiseVariance.item<float>().Should().Be(64.0f);
        FluentActions.Invoking(() => new BMCLoss(initialNoiseSigma: 0)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("initialNoiseSigma").WithMessage("*sigma (not the variance*");
    }

    [Fact]
    public void MultiDimensionalBmcIsTheCrossEntropyOfSquaredEuclideanDistances()
    {
        // bmc_loss_md: logits_ij = log N(y_j; pred_i, sigma^2 I); the normalizing constant is the same in every row and cancels.
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        var pred = randn(6, 3, dtype: ScalarType.Float64, generator: generator).requires_grad_();
        var target = randn(6, 3, dtype: ScalarType.Float64, generator: generator);
        double variance = 2.25;
        var value = new BMCLoss(initialNoiseSigma: 1.5, learnable: false).to(ScalarType.Float64).call(pred, target).item<double>();

        var p = pred.Doubles();
        var y = target.Doubles();
        double expected = 0;
        for (int i = 0; i < 6; i++)
        {
            var logits = Enumerable.Range(0, 6).Select(j =>
                -Enumerable.Range(0, 3).Sum(k => Math.Pow(p[(i * 3) + k] - y[(j * 3) + k], 2)) / (2 * variance)
                - (1.5 * Math.Log(2 * Math.PI * variance))).ToArray();
            double max = logits.Max();
            double logSum = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
            expected += logSum - logits[i];
        }

        value.Should().BeApproximately(expected / 6 * 2 * variance, 1e-12);
    }

    [Fact]
    public void OneDimensionalTargetsGiveTheSameBmcAsColumns()
    {
        using var scope = NewDisposeScope();
        var pred = tensor(Reference.Doubles("pred"));
        var target = tensor(Reference.Doubles("target"));
        var bmc = new BMCLoss(1.3, learnable: false);
        bmc.call(pred, target).item<double>().Should().Be(bmc.call(pred.unsqueeze(1), target.unsqueeze(1)).item<double>());
        FluentActions.Invoking(() => bmc.call(randn(6, 3), randn(6, 2))).Should().Throw<ArgumentException>().WithParameterName("target");
        FluentActions.Invoking(() => new GAILoss(new GaussianMixture([0.0], [1.0], [1.0])).call(randn(6, 3), randn(6, 3)))
            .Should().Throw<ArgumentException>().WithParameterName("input");
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
        FluentActions.Invoking(() => new BMCLoss(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("initialNoiseSigma");
        FluentActions.Invoking(() => new BMCLoss().call(ones(4, 2, 1), ones(4))).Should().Throw<ArgumentException>().WithParameterName("input");
        FluentActions.Invoking(() => new BMCLoss().call(ones(4), ones(3))).Should().Throw<ArgumentException>().WithParameterName("target");
        FluentActions.Invoking(() => new GaussianMixture([1.0], [0.0], [1.0])).Should().Throw<ArgumentException>().WithParameterName("variances");
        FluentActions.Invoking(() => new GaussianMixture([1.0, 2.0], [1.0], [1.0])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new GaussianMixture([1.0, 2.0], [1.0, 1.0], [0.3, 0.3])).Should().Throw<ArgumentException>().WithParameterName("weights");
        FluentActions.Invoking(() => GaussianMixture.FitValues([1.0, 2.0], components: 3)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void AMixtureFitThatCannotFinishInReasonableTimeIsRefusedWithItsBound()
    {
        // 200,000 components on 200,000 distinct labels: 4e10 terms an EM iteration.
        var labels = Enumerable.Range(0, 200_000).Select(i => (double)i).ToArray();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        FluentActions.Invoking(() => GaussianMixture.FitValues(labels, components: 200_000)).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("components").WithMessage("*at most 100,000,000*");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "the bound is checked before any EM iteration");

        // At the bound a fit runs: 12,500,000 terms an iteration here.
        GaussianMixture.FitValues(labels.Take(50_000).ToArray(), components: 250, maxIterations: 2).Count.Should().Be(250);
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
