namespace RankSim.Tests.Reliability;

/// <summary>Properties of the DIR tools over seeded random cases.</summary>
public class ToolkitPropertyTests
{
    private const int Cases = 200;

    [Fact]
    public void LdsWeightsArePositiveAndAverageOneOverTheTrainingSet()
    {
        var random = new RandomCases(11);
        for (int c = 0; c < Cases; c++)
        {
            var labels = Enumerable.Range(0, random.Next(1, 400)).Select(_ => Math.Floor(Math.Exp(random.Uniform(0, 4)))).ToArray();
            var shape = (KernelShape)random.Next(0, 2);
            var kernel = new KernelWindow(shape, 2 * random.Next(0, 5) + 1, random.Uniform(0.3, 4));
            var reweighting = (Reweighting)random.Next(0, 1);
            var weights = LabelDistribution.FromValues(labels).Reweight(reweighting, c % 3 == 0 ? null : kernel);

            using var scope = NewDisposeScope();
            var perSample = weights.Lookup(tensor(labels)).Doubles();
            perSample.Should().AllSatisfy(w => w.Should().BePositive(), $"case {c}");
            perSample.Average().Should().BeApproximately(1.0, 1e-6, $"case {c}");
        }
    }

    [Fact]
    public void FdsIsTheIdentityInEvalModeAndCalibratesBinsOntoTheSmoothedStatistics()
    {
        var random = new RandomCases(12);
        for (int c = 0; c < 50; c++)
        {
            using var scope = NewDisposeScope();
            int bins = random.Next(3, 12), dim = random.Next(1, 8);
            var fds = new FeatureDistributionSmoothing(dim, LabelBinning.Integers(0, bins - 1), new KernelWindow(size: 3, sigma: 1),
                clampMin: 1e-6, clampMax: 1e6, dtype: ScalarType.Float64);
            var labels = randint(0, bins, 400, generator: new Generator((ulong)c));
            var features = randn(400, dim, dtype: ScalarType.Float64, generator: new Generator((ulong)c + 1000)) * (labels.unsqueeze(1) + 1);
            fds.UpdateStatistics(features, labels);
            fds.EndEpoch();

            fds.eval();
            fds.call(features, labels).Doubles().Should().Equal(features.Doubles(), $"case {c}: eval mode is the identity");

            // In training mode, a bin's samples are mapped from the bin's statistics onto the smoothed ones.
            fds.train();
            var calibrated = fds.call(features, labels);
            for (int b = 0; b < bins; b++)
            {
                var members = labels.eq(b).nonzero().squeeze(1);
                if (members.shape[0] < 2)
                {
                    continue;
                }

                var binFeatures = calibrated.index_select(0, members);
                binFeatures.mean([0]).Doubles().Should().Equal(fds.SmoothedMean[b].Doubles(), (x, y) => Math.Abs(x - y) <= 1e-9, $"case {c}, bin {b}");
                binFeatures.var(0).Doubles().Should().Equal(fds.SmoothedVariance[b].Doubles(), (x, y) => Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Abs(y)), $"case {c}, bin {b}");
            }
        }
    }

    [Fact]
    public void APerfectPredictionHasZeroErrorEverywhere()
    {
        var random = new RandomCases(13);
        for (int c = 0; c < Cases; c++)
        {
            var training = Enumerable.Range(0, random.Next(1, 500)).Select(_ => Math.Floor(random.Uniform(0, 30))).ToArray();
            var evaluator = new DirEvaluator(new ShotSplit(LabelDistribution.FromValues(training), random.Uniform(5, 50), random.Uniform(0, 5)));
            using var scope = NewDisposeScope();
            var labels = tensor(Enumerable.Range(0, random.Next(1, 100)).Select(_ => random.Uniform(-5, 40)).ToArray());
            evaluator.Add(labels, labels);
            var report = evaluator.Compute();
            foreach (var metrics in new[] { report.All, report.Many, report.Medium, report.Few }.Where(m => m.Count > 0))
            {
                metrics.Mae.Should().Be(0, $"case {c}");
                metrics.Mse.Should().Be(0);
                metrics.BalancedMae.Should().Be(0);
            }

            (report.Many.Count + report.Medium.Count + report.Few.Count).Should().Be(report.All.Count);
        }
    }
}
