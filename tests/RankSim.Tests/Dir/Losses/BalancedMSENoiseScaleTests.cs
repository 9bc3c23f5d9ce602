namespace RankSim.Tests.Dir.Losses;

/// <summary>
/// BMC and GAI across the accepted range of the noise scale sigma, [1e-15, 1e15]: the loss and the gradient with respect
/// to sigma against the formulas written out in float64 here (with sigma's float32 value), and the large-sigma limit of GAI.
/// </summary>
public sealed class BalancedMSENoiseScaleTests
{
    private static readonly double[] Predictions = [1.5, 3.25, 0.4, 6.1, 2.2, 4.8];
    private static readonly double[] Targets = [1.0, 3.0, 1.2, 5.0, 2.5, 4.0];
    private static readonly GaussianMixture Prior = new([1.5, 4.5], [0.8, 2.0], [0.55, 0.45]);

    /// <summary>dL/dsigma of BMC: (2 / (B sigma)) sum_ij (p_ij - delta_ij) a_ij, a_ij = ||p_i - y_j||^2 - ||p_i - y_i||^2, p = softmax(-a / (2 v)).</summary>
    private static double BmcSigmaGradient(double sigma)
    {
        int b = Predictions.Length;
        double v = sigma * sigma, total = 0;
        for (int i = 0; i < b; i++)
        {
            var a = Enumerable.Range(0, b).Select(j => Math.Pow(Predictions[i] - Targets[j], 2) - Math.Pow(Predictions[i] - Targets[i], 2)).ToArray();
            var logits = a.Select(x => -x / (2 * v)).ToArray();
            double max = logits.Max();
            var e = logits.Select(l => Math.Exp(l - max)).ToArray();
            double sum = e.Sum();
            for (int j = 0; j < b; j++)
            {
                total += ((e[j] / sum) - (i == j ? 1 : 0)) * a[j];
            }
        }

        return 2 * total / (b * sigma);
    }

    /// <summary>
    /// GAI per sample: (pred - y)^2 / (2 v) + log sum_k w_k exp(e_k), e_k = -log(1 + v_k / v) / 2 - (pred - mu_k)^2 / (2 (v + v_k)),
    /// times 2 v (held constant for the gradient); the loss and dL/dsigma, written out in float64.
    /// </summary>
    private static (double Loss, double SigmaGradient) Gai(double sigma)
    {
        double v = sigma * sigma, loss = 0, gradient = 0;
        int b = Predictions.Length;
        for (int i = 0; i < b; i++)
        {
            double p = Predictions[i];
            var e = Enumerable.Range(0, 2).Select(k => (-0.5 * Math.Log(1 + (Prior.Variances[k] / v))) - (Math.Pow(p - Prior.Means[k], 2) / (2 * (v + Prior.Variances[k])))).ToArray();
            var weighted = Enumerable.Range(0, 2).Select(k => Prior.Weights[k] * Math.Exp(e[k])).ToArray();
            double sum = weighted.Sum();
            double lse = Math.Log(sum);
            double dLse = Enumerable.Range(0, 2).Sum(k => weighted[k] / sum
                * ((0.5 * Prior.Variances[k] / (v * (v + Prior.Variances[k]))) + (Math.Pow(p - Prior.Means[k], 2) / (2 * Math.Pow(v + Prior.Variances[k], 2)))));
            loss += 2 * v * ((Math.Pow(p - Targets[i], 2) / (2 * v)) + lse);
            gradient += 2 * v * ((-Math.Pow(p - Targets[i], 2) / (2 * v * v)) + dLse) * 2 * sigma;
        }

        return (loss / b, gradient / b);
    }

    /// <summary>The large-sigma limit of GAI: mean of (pred - y)^2 - sum_k w_k (v_k + (pred - mu_k)^2).</summary>
    private static double GaiLimit() => Enumerable.Range(0, Predictions.Length).Average(i =>
        Math.Pow(Predictions[i] - Targets[i], 2) - Enumerable.Range(0, 2).Sum(k => Prior.Weights[k] * (Prior.Variances[k] + Math.Pow(Predictions[i] - Prior.Means[k], 2))));

    [Theory]
    [InlineData(1e-15)]
    [InlineData(1e-12)]
    [InlineData(1e-10)]
    [InlineData(1e-3)]
    [InlineData(1.0)]
    [InlineData(1e6)]
    [InlineData(1e15)]
    public void BmcGivesSigmaItsGradientAcrossTheRange(double initialSigma)
    {
        using var scope = NewDisposeScope();
        var bmc = new BMCLoss(initialSigma);
        double sigma = bmc.NoiseSigma.item<float>();
        var loss = bmc.call(tensor(Predictions).to(ScalarType.Float32), tensor(Targets).to(ScalarType.Float32));
        loss.backward();
        double.IsFinite(loss.item<float>()).Should().BeTrue();
        double gradient = bmc.NoiseSigma.grad!.item<float>();
        double expected = BmcSigmaGradient(sigma);
        double.IsFinite(gradient).Should().BeTrue();
        gradient.Should().BeApproximately(expected, (Math.Abs(expected) * 1e-4) + 1e-30);
    }

    [Theory]
    [InlineData(1e-15)]
    [InlineData(1e-12)]
    [InlineData(1e-10)]
    [InlineData(1.0)]
    [InlineData(1e3)]
    [InlineData(1e4)]
    [InlineData(1e6)]
    [InlineData(1e10)]
    [InlineData(1e15)]
    public void GaiGivesTheLossAndSigmasGradientAcrossTheRange(double initialSigma)
    {
        using var scope = NewDisposeScope();
        var gai = new GAILoss(Prior, initialSigma);
        double sigma = gai.NoiseSigma.item<float>();
        var loss = gai.call(tensor(Predictions).to(ScalarType.Float32), tensor(Targets).to(ScalarType.Float32));
        loss.backward();
        double gradient = gai.NoiseSigma.grad!.item<float>();
        double.IsFinite(gradient).Should().BeTrue();

        // Written out here in float64, exact to rounding below sigma = 1e4; beyond, 1 + v_k / v rounds, and the limit
        // (exact to about v_k / v) is the reference.
        var (expectedLoss, expectedGradient) = Gai(sigma);
        if (sigma < 1e4)
        {
            loss.item<float>().Should().BeApproximately((float)expectedLoss, (float)(Math.Abs(expectedLoss) * 1e-5) + 1e-6f);
            gradient.Should().BeApproximately(expectedGradient, (Math.Abs(expectedGradient) * 1e-4) + 1e-30);
        }
        else
        {
            double limit = GaiLimit();
            loss.item<float>().Should().BeApproximately((float)limit, (float)(Math.Abs(limit) * 1e-4));
            double limitGradient = -2 * limit / sigma;
            gradient.Should().BeApproximately(limitGradient, Math.Abs(limitGradient) * 1e-3);
        }
    }

    [Fact]
    public void DiagnosticsOfABatchThatDoesNotVaryHaveNoCenteredDirection()
    {
        using var scope = NewDisposeScope();
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            var features = (ones(7, 8, dtype: ScalarType.Float64) * tensor(new[] { 0.1, 0.7, 1.3, -2.9, 1e-3, 5.5, 0.3, 1.0 / 3 })).to(dtype);
            var diagnostics = FeatureDiagnostics.Compute(features, arange(7, dtype: ScalarType.Float32));
            diagnostics.EffectiveRank.Should().Be(0, $"{dtype}: the documented value for a batch that does not vary");
            diagnostics.CenteredMeanCosine.Should().Be(double.NaN);
        }
    }
}
