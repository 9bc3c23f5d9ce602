namespace RankSim.Tests.Reliability;

/// <summary>Extreme but valid inputs: finite, deterministic results and no exception.</summary>
public abstract class NumericsTests(bool referencePath) : BothPaths(referencePath)
{
    private static (double Loss, double[] Gradient) Run(Tensor features, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var leaf = features.detach().clone().requires_grad_();
        var loss = new RankSimLoss(generator: new Generator(7)).call(leaf, labels);
        loss.backward();
        return (loss.to(ScalarType.Float64).item<double>(), leaf.grad!.Doubles());
    }

    private static void ShouldBeFiniteAndDeterministic(Tensor features, Tensor labels, string because)
    {
        var first = Run(features, labels);
        var second = Run(features, labels);
        double.IsFinite(first.Loss).Should().BeTrue(because);
        first.Gradient.Should().AllSatisfy(g => double.IsFinite(g).Should().BeTrue(because));
        second.Loss.Should().Be(first.Loss, because);
        second.Gradient.Should().Equal(first.Gradient, because);
    }

    [Theory]
    [InlineData(1e-10, ScalarType.Float32)]
    [InlineData(1e10, ScalarType.Float32)]
    [InlineData(1e20, ScalarType.Float32)]
    [InlineData(1e-10, ScalarType.Float64)]
    [InlineData(1e20, ScalarType.Float64)]
    [InlineData(1e150, ScalarType.Float64)]
    public void FeatureMagnitudesWhoseNormsExceedEpsGiveTheSameRanks(double magnitude, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var unit = randn(40, 16, dtype: ScalarType.Float64, generator: new Generator(1));
        var labels = randn(40, generator: new Generator(2));
        var scaled = (unit * magnitude).to(dtype);
        ShouldBeFiniteAndDeterministic(scaled, labels, $"magnitude {magnitude}");

        // Cosine similarity ignores the scale (for rows whose norm is at least eps = 1e-12), so the loss is the one of
        // the unit-scale features.
        Run(scaled, labels).Loss.Should().BeApproximately(Run(unit.to(dtype), labels).Loss, 1e-6);
    }

    /// <summary>
    /// Rows whose norm is below eps = 1e-12 (zero rows from dead ReLUs, dropout or masking; denormal rows) are divided by
    /// eps, as <c>normalize</c> does: similarities, loss and gradient stay finite on both paths and in every float dtype,
    /// and an optimizer step leaves the weights finite.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void ZeroAndDenormalRowsAmongNormalRowsGiveFiniteGradients(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var values = randn(24, 6, dtype: ScalarType.Float64, generator: new Generator(11));
        values[3] = zeros(6, dtype: ScalarType.Float64);
        values[17] = full(6, dtype == ScalarType.Float64 ? 1e-310 : 1e-40, dtype: ScalarType.Float64);
        var labels = arange(24, dtype: ScalarType.Float32);
        var layer = new TorchSharp.Modules.Parameter(values.to(dtype));
        var optimizer = optim.SGD([layer], 0.1);
        foreach (var similarity in new[] { FeatureSimilarity.Cosine, FeatureSimilarity.DotProduct })
        {
            optimizer.zero_grad();
            var loss = new RankSimLoss(similarity: similarity).call(layer, labels);
            loss.backward();
            var gradient = layer.grad!.Doubles();
            double.IsFinite(loss.to(ScalarType.Float64).item<double>()).Should().BeTrue($"{dtype} {similarity}");
            gradient.Should().OnlyContain(g => double.IsFinite(g), $"{dtype} {similarity}: the gradient of every row is finite");
            optimizer.step();
            layer.Doubles().Should().OnlyContain(w => double.IsFinite(w), $"{dtype} {similarity}: weights after one step");
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void AZeroRowsCosineGradientIsTheUpstreamGradientOverEps(ScalarType dtype)
    {
        // For f = 0, n = f / max(||f||, eps) has the Jacobian I / eps: dL/df = dL/dn / eps.
        using var scope = NewDisposeScope();
        var features = tensor(new[] { 0.0, 0.0, 1.0, 0.0, 0.6, 0.8 }, dtype: dtype).reshape(3, 2).requires_grad_();
        var upstream = tensor(new[] { 0.0, 1.0, 2.0, 1.0, 0.0, 0.5, 2.0, 0.5, 0.0 }, dtype: dtype).reshape(3, 3);
        var similarity = SimilarityMatrix.Pairwise(features, FeatureSimilarity.Cosine, null);
        (similarity * upstream).sum().backward();

        // dL/dn_0 = sum_j (G_0j + G_j0) n_j = 2 * (1 * [1, 0] + 2 * [0.6, 0.8]) = [4.4, 3.2].
        features.grad![0].Doubles().Should().Equal([4.4e12, 3.2e12], (a, e) => Math.Abs(a - e) <= 1e-3 * Math.Abs(e));
    }

    [Fact]
    public void LabelsUpToOneBillion()
    {
        using var scope = NewDisposeScope();
        var features = randn(50, 8, generator: new Generator(3));
        ShouldBeFiniteAndDeterministic(features, randint(0, 1_000_000_000, 50, generator: new Generator(4)), "int64 labels");
        ShouldBeFiniteAndDeterministic(features, rand(50, generator: new Generator(5)) * 1e9, "float32 labels");
        ShouldBeFiniteAndDeterministic(features, rand(50, dtype: ScalarType.Float64, generator: new Generator(6)) * 1e9, "float64 labels");
    }

    [Fact]
    public void IdenticalFeatureRowsTieInSimilarity()
    {
        using var scope = NewDisposeScope();
        var features = randn(1, 8, generator: new Generator(8)).expand(30, 8).contiguous();
        ShouldBeFiniteAndDeterministic(features, arange(30, dtype: ScalarType.Float32), "identical rows");
        ShouldBeFiniteAndDeterministic(zeros(30, 8), arange(30, dtype: ScalarType.Float32), "all-zero rows");
    }

    [Fact]
    public void AllLabelsEqualAndABatchOfOne()
    {
        using var scope = NewDisposeScope();
        var features = randn(20, 4, generator: new Generator(9));
        ShouldBeFiniteAndDeterministic(features, full(20, 3.0f), "all labels equal");
        Run(features, full(20, 3.0f)).Loss.Should().Be(0);
        ShouldBeFiniteAndDeterministic(features[TensorIndex.Slice(0, 1)], ones(1), "batch of one");
        Run(features[TensorIndex.Slice(0, 1)], ones(1)).Loss.Should().Be(0);
    }
}

/// <summary><see cref="NumericsTests"/> with the CPU kernels.</summary>
public sealed class NumericsWithKernelsTests() : NumericsTests(referencePath: false);

/// <summary><see cref="NumericsTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class NumericsOnReferencePathTests() : NumericsTests(referencePath: true);
