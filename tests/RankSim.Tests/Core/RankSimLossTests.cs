using System.Text.Json;
using RankSim.Tests.Fixtures;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Tests.Core;

public abstract class RankSimLossTests(bool referencePath) : BothPaths(referencePath)
{
    public static TheoryData<string> LossCases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Golden.Cases("ranksim_official.json", "ranksim"))
        {
            data.Add(c.Name());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void LossAndGradientMatchTheReferenceImplementation(string name)
    {
        JsonElement c = Golden.Cases("ranksim_official.json", "ranksim").Single(x => x.Name() == name);
        using var scope = NewDisposeScope();
        var features = tensor(c.Floats("features")).reshape(c.Shape("feature_shape")).requires_grad_();
        var labels = tensor(c.Floats("labels"));
        var loss = new RankSimLoss(FeatureRanking.Blackbox(c.GetProperty("interpolation_lambda").GetDouble()));

        var value = loss.call(features, labels);
        value.backward();

        double expected = c.GetProperty("loss").GetDouble();
        value.dim().Should().Be(0);
        value.item<float>().Should().BeApproximately((float)expected, (float)(1e-5 * Math.Abs(expected)));
        features.grad!.shape.Should().Equal(c.Shape("feature_shape"));
        features.grad!.Floats().Should().Equal(c.Floats("features_grad"), (a, e) => Math.Abs(a - e) <= 1e-5);
    }

    [Fact]
    public void MatchesTheDefinitionComputedByHand()
    {
        // Three samples: features at angles 0, 90 and 30 degrees; labels 0, 10, 1.
        using var scope = NewDisposeScope();
        var features = tensor(new[] { 1.0, 0.0, 0.0, 1.0, Math.Sqrt(3) / 2, 0.5 }).reshape(3, 2);
        var labels = tensor(new[] { 0.0, 10.0, 1.0 });

        // Cosine S = [[1, 0, .866], [0, 1, .5], [.866, .5, 1]] -> ranks RF = [[1/3, 1, 2/3], [1, 1/3, 2/3], [2/3, 1, 1/3]].
        // Labels: L = [[0, -10, -1], [-10, 0, -9], [-1, -9, 0]] -> RL = [[1/3, 1, 2/3], [1, 1/3, 2/3], [2/3, 1, 1/3]].
        new RankSimLoss().call(features, labels).item<double>().Should().Be(0.0);

        // Swapping labels 0 and 1 (now 1, 10, 0): RL row 0 = [1/3, 1, 2/3] stays (self first, 0 then 10), row 1:
        // L = [-9, 0, -10] -> [2/3, 1/3, 1]; row 2: L = [-1, -10, 0] -> [2/3, 1, 1/3].
        // Row 1 differs from RF row 1 = [1, 1/3, 2/3] by (1/3, 0, -1/3): mean square 2/27.
        var swapped = tensor(new[] { 1.0, 10.0, 0.0 });
        new RankSimLoss().call(features, swapped).item<double>().Should().BeApproximately(2.0 / 27, 1e-12);
    }

    [Fact]
    public void ChainRuleFromRanksToFeaturesMatchesCentralFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(seed: 11);
        var features = randn(12, 5, dtype: ScalarType.Float64, generator: generator).requires_grad_();
        var labels = randn(12, dtype: ScalarType.Float64, generator: generator);
        const double lambda = 2.0;

        // The gradient G that the ranker hands to S, taken at S as a leaf.
        var s = SimilarityMatrix.Pairwise(features.detach(), FeatureSimilarity.Cosine).requires_grad_();
        var labelRanks = Ranks.Ascending(LabelSimilarity.Distances(labels.unsqueeze(1)), RankTies.IndexOrder);
        (BlackboxRank.Apply(s, lambda) - labelRanks).square().mean([1]).sum().backward();
        var g = s.grad!.detach();
        g.abs().sum().item<double>().Should().BeGreaterThan(0, "the case must exercise a non-zero ranker gradient");

        new RankSimLoss(FeatureRanking.Blackbox(lambda)).call(features, labels).backward();
        var analytic = features.grad!.Doubles();

        double Objective(Tensor f) => (g * SimilarityMatrix.Pairwise(f, FeatureSimilarity.Cosine)).sum().item<double>();
        const double h = 1e-6;
        var numeric = new double[analytic.Length];
        var baseValues = features.detach().clone();
        for (int k = 0; k < numeric.Length; k++)
        {
            using var inner = NewDisposeScope();
            var plus = baseValues.clone();
            var minus = baseValues.clone();
            plus.view(-1)[k] += h;
            minus.view(-1)[k] -= h;
            numeric[k] = (Objective(plus) - Objective(minus)) / (2 * h);
        }

        analytic.Should().Equal(numeric, (a, e) => Math.Abs(a - e) <= 1e-7);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void ASecondBackwardNeedsRetainGraphInEveryDtypeAsInLibtorch(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var features = randn(12, 4, generator: new Generator(3)).to(dtype).requires_grad_();
        var labels = arange(12, dtype: ScalarType.Float32);
        var value = new RankSimLoss().call(features, labels);
        value.backward();
        FluentActions.Invoking(() => value.backward()).Should().Throw<Exception>().WithMessage("*second time*");

        features.grad!.zero_();
        var retained = new RankSimLoss().call(features, labels);
        retained.backward(retain_graph: true);
        var first = features.grad!.clone();
        retained.backward();
        features.grad!.Doubles().Should().Equal(first.mul(2).Doubles(), (a, e) => Math.Abs(a - e) <= 1e-6 * Math.Max(1, Math.Abs(e)));

        // The ranker's own result, documented: a second backward raises as well, and with retain_graph it accumulates.
        var scores = randn(3, 5, generator: new Generator(4)).to(dtype).requires_grad_();
        var ranks = BlackboxRank.Apply(scores, 2.0);
        var upstream = randn(3, 5, generator: new Generator(5)).to(ranks.dtype);
        ranks.backward([upstream]);
        FluentActions.Invoking(() => ranks.backward([upstream])).Should().Throw<Exception>().WithMessage("*second time*");
        scores.grad!.zero_();
        var kept = BlackboxRank.Apply(scores, 2.0);
        kept.backward([upstream], retain_graph: true);
        var once = scores.grad!.clone();
        kept.backward([upstream]);
        scores.grad!.Doubles().Should().Equal(once.mul(2).Doubles());
    }

    [Theory]
    [InlineData(1e-12)]
    [InlineData(1e-20)]
    public void ALambdaTooSmallToMoveAnySimilarityGivesAnExactlyZeroGradient(double lambda)
    {
        using var scope = NewDisposeScope();
        var features = randn(32, 8, generator: new Generator(6)).requires_grad_();
        var labels = randn(32, generator: new Generator(7));
        var value = new RankSimLoss(FeatureRanking.Blackbox(lambda)).call(features, labels);
        value.item<float>().Should().BeGreaterThan(0, "the ranks do disagree");
        value.backward();
        features.grad!.Floats().Should().OnlyContain(g => g == 0, "lambda times the gradient moves no similarity past a neighbour");
    }

    [Fact]
    public void KDimensionalLabelsNearTheDtypeLimitRankAsInWiderArithmetic()
    {
        using var scope = NewDisposeScope();
        var features = randn(6, 4, generator: new Generator(8));

        // Pairwise squared distances of these overflow float64 (and the float32 ones overflow float32) unless scaled.
        var unit = tensor(new[] { 0.0, 0.0, 1.0, 0.5, -1.0, 0.25, 0.3, -0.9, 0.8, 0.8, -0.2, 0.6 }, dtype: ScalarType.Float64).reshape(6, 2);
        double reference = new RankSimLoss().call(features, unit).item<float>();
        new RankSimLoss().call(features, unit * 1e300).item<float>().Should().Be((float)reference);
        new RankSimLoss().call(features, (unit * 3e37).to(ScalarType.Float32)).item<float>().Should().Be((float)reference);

        // Scalar float32 labels near the float32 limit: their differences overflow float32, not float64.
        var scalar = tensor(new[] { 3e38f, -3e38f, 1e38f, -2e38f, 0f, 2.9e38f });
        var asDouble = scalar.to(ScalarType.Float64);
        new RankSimLoss().call(features, scalar).item<float>().Should().Be(new RankSimLoss().call(features, asDouble).item<float>());
    }

    [Fact]
    public void GradientDescentOnFreeFeaturesDrivesTheLossDown()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(seed: 5);
        var features = new TorchSharp.Modules.Parameter(randn(32, 16, generator: generator));
        var labels = arange(32, dtype: ScalarType.Float32);
        var loss = new RankSimLoss(FeatureRanking.Blackbox(2.0));
        var optimizer = optim.SGD([features], 0.5);

        double start = loss.call(features, labels).item<float>();
        double final = start;
        for (int step = 0; step < 300; step++)
        {
            using var inner = NewDisposeScope();
            optimizer.zero_grad();
            var value = loss.call(features, labels);
            value.backward();
            optimizer.step();
            final = value.item<float>();
        }

        start.Should().BeGreaterThan(1.0);
        final.Should().BeLessThan(0.2 * start);
    }

    [Fact]
    public void RowsDroppedByTheSubsamplingGetZeroGradient()
    {
        using var scope = NewDisposeScope();
        var features = randn(9, 4, generator: new Generator(seed: 2)).requires_grad_();
        var labels = tensor(new[] { 1, 1, 1, 2, 2, 3, 4, 4, 5 });
        new RankSimLoss(generator: new Generator(seed: 3)).call(features, labels).backward();

        var rowHasGradient = features.grad!.abs().sum(1).gt(0).data<bool>().ToArray();
        rowHasGradient.Count(x => x).Should().BeLessThanOrEqualTo(5, "5 distinct labels keep at most 5 rows");
        rowHasGradient.Where((_, i) => i is 0 or 1 or 2).Count(x => x).Should().BeLessThanOrEqualTo(1);
        rowHasGradient.Where((_, i) => i is 3 or 4).Count(x => x).Should().BeLessThanOrEqualTo(1);
    }

    [Fact]
    public void ReductionsAgree()
    {
        using var scope = NewDisposeScope();
        var features = randn(10, 3, generator: new Generator(seed: 9));
        var labels = randn(10, generator: new Generator(seed: 10));
        var perAnchor = new RankSimLoss(reduction: Reduction.None).call(features, labels);
        perAnchor.shape.Should().Equal(10);
        perAnchor.Floats().Should().AllSatisfy(x => x.Should().BeGreaterThanOrEqualTo(0));

        new RankSimLoss().call(features, labels).item<float>().Should().BeApproximately(perAnchor.sum().item<float>(), 1e-6f);
        new RankSimLoss(reduction: Reduction.Mean).call(features, labels).item<float>()
            .Should().BeApproximately(perAnchor.mean().item<float>(), 1e-6f);
    }

    [Fact]
    public void OneDistinctLabelGivesZeroLossAndZeroGradient()
    {
        using var scope = NewDisposeScope();
        var features = randn(6, 3).requires_grad_();
        var value = new RankSimLoss().call(features, full(6, 4.0f));
        value.backward();
        value.item<float>().Should().Be(0f);
        features.grad!.Floats().Should().AllSatisfy(x => x.Should().Be(0f));
    }

    [Fact]
    public void ABatchOfOneGivesZeroLoss()
    {
        using var scope = NewDisposeScope();
        var features = randn(1, 3).requires_grad_();
        var value = new RankSimLoss().call(features, tensor(new[] { 2.0f }));
        value.backward();
        value.item<float>().Should().Be(0f);
    }

    [Fact]
    public void LabelShapesBAndBx1AreTheSame()
    {
        using var scope = NewDisposeScope();
        var features = randn(8, 5, generator: new Generator(seed: 4));
        var labels = randn(8, generator: new Generator(seed: 6));
        new RankSimLoss().call(features, labels).item<float>()
            .Should().Be(new RankSimLoss().call(features, labels.unsqueeze(1)).item<float>());
    }

    [Fact]
    public void KDimensionalLabelsRankByEuclideanDistance()
    {
        using var scope = NewDisposeScope();
        var features = randn(10, 6, dtype: ScalarType.Float64, generator: new Generator(seed: 71));
        var labels = randn(10, 3, dtype: ScalarType.Float64, generator: new Generator(seed: 72));

        var s = nn.functional.normalize(features, dim: 1);
        var featureRanks = Ranks.Descending(s.mm(s.t()), RankTies.IndexOrder);
        var euclidean = -(labels.unsqueeze(1) - labels.unsqueeze(0)).pow(2).sum(-1).sqrt();
        var labelRanks = Ranks.Descending(euclidean, RankTies.IndexOrder);
        double expected = (featureRanks - labelRanks).pow(2).mean([1]).sum().item<double>();

        expected.Should().BeGreaterThan(0);
        new RankSimLoss().call(features, labels).item<double>().Should().BeApproximately(expected, 1e-12);
    }

    [Fact]
    public void DotProductSimilarityIsNotScaleInvariantButCosineIs()
    {
        using var scope = NewDisposeScope();
        var features = randn(10, 4, generator: new Generator(seed: 21));
        var labels = randn(10, generator: new Generator(seed: 22));
        var cosine = new RankSimLoss();
        cosine.call(features * 7.5, labels).item<float>().Should().Be(cosine.call(features, labels).item<float>());

        // Dot product of f_i with itself grows with |f_i|^2: rows rank differently once one sample is scaled up.
        var scaled = features.clone();
        scaled[0] *= 100;
        var dot = new RankSimLoss(similarity: FeatureSimilarity.DotProduct);
        dot.call(scaled, labels).item<float>().Should().NotBe(dot.call(features, labels).item<float>());
    }

    [Fact]
    public void AverageLabelTiesShareRanks()
    {
        using var scope = NewDisposeScope();

        // Labels 1, 2, 3: for anchor 2, labels 1 and 3 tie at distance 1.
        var features = tensor(new[] { 1.0, 0.0, 0.8, 0.6, 0.0, 1.0 }).reshape(3, 2);
        var labels = tensor(new[] { 1.0, 2.0, 3.0 });
        var indexOrder = new RankSimLoss(reduction: Reduction.None).call(features, labels).Doubles();
        var average = new RankSimLoss(reduction: Reduction.None, labelTies: RankTies.Average).call(features, labels).Doubles();

        // Anchor 2 (row 1): S row = [.8, 1, .6] -> RF = [2/3, 1/3, 1]; RL index order = [2/3, 1/3, 1], average = [5/6, 1/3, 5/6].
        indexOrder[1].Should().BeApproximately(0.0, 1e-12);
        average[1].Should().BeApproximately((1.0 / 36 + 0 + 1.0 / 36) / 3, 1e-12);
        average[0].Should().Be(indexOrder[0]);
        average[2].Should().Be(indexOrder[2]);
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void EveryFloatDtypeWorksAndGetsItsGradientInItsOwnDtype(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var reference = randn(16, 8, generator: new Generator(seed: 31));
        var labels = randint(0, 6, 16, generator: new Generator(seed: 32));
        var features = reference.to(dtype).requires_grad_();
        var value = new RankSimLoss(generator: new Generator(seed: 1)).call(features, labels);
        value.backward();

        value.dtype.Should().Be(dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32);
        features.grad!.dtype.Should().Be(dtype);
        features.grad!.device_type.Should().Be(DeviceType.CPU);
        float expected = new RankSimLoss(generator: new Generator(seed: 1)).call(reference, labels).item<float>();
        value.to(ScalarType.Float32).item<float>().Should().BeApproximately(expected, 0.5f, "low precision can swap near-tied similarities");
    }

    [Theory]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Int16)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void IntegerAndFloatLabelsGiveTheSameLoss(ScalarType labelDtype)
    {
        using var scope = NewDisposeScope();
        var features = randn(12, 4, generator: new Generator(seed: 41));
        var labels = tensor(new[] { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8 });
        float expected = new RankSimLoss(generator: new Generator(seed: 2)).call(features, labels.to(ScalarType.Float64)).item<float>();
        new RankSimLoss(generator: new Generator(seed: 2)).call(features, labels.to(labelDtype)).item<float>().Should().Be(expected);
    }

    [Theory]
    [MemberData(nameof(TestUtil.Devices), MemberType = typeof(TestUtil))]
    public void RunsOnEveryAvailableDevice(string deviceName)
    {
        using var scope = NewDisposeScope();
        var device = torch.device(deviceName);
        var features = randn(20, 6, generator: new Generator(seed: 51)).to(device).requires_grad_();
        var labels = randint(0, 8, 20, generator: new Generator(seed: 52)).to(device);
        var value = new RankSimLoss().call(features, labels);
        value.backward();
        value.device_type.Should().Be(device.type);
        features.grad!.device_type.Should().Be(device.type);
    }

    [Fact]
    public void TheSameGeneratorSeedGivesTheSameLoss()
    {
        using var scope = NewDisposeScope();
        var features = randn(64, 8, generator: new Generator(seed: 61));
        var labels = randint(0, 10, 64, generator: new Generator(seed: 62));
        var values = Enumerable.Range(0, 3)
            .Select(_ => new RankSimLoss(generator: new Generator(seed: 77)).call(features, labels).item<float>()).ToArray();
        values.Should().AllSatisfy(v => v.Should().Be(values[0]));
    }
}

/// <summary><see cref="RankSimLossTests"/> with the CPU kernels.</summary>
public sealed class RankSimLossWithKernelsTests() : RankSimLossTests(referencePath: false);

/// <summary><see cref="RankSimLossTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class RankSimLossOnReferencePathTests() : RankSimLossTests(referencePath: true);
