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
    [InlineData(1e-20, ScalarType.Float32)]
    [InlineData(1e-10, ScalarType.Float32)]
    [InlineData(1e10, ScalarType.Float32)]
    [InlineData(1e20, ScalarType.Float32)]
    [InlineData(1e-20, ScalarType.Float64)]
    [InlineData(1e20, ScalarType.Float64)]
    public void FeatureMagnitudesFromTinyToHugeGiveTheSameRanks(double magnitude, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var unit = randn(40, 16, dtype: ScalarType.Float64, generator: new Generator(1));
        var labels = randn(40, generator: new Generator(2));
        var scaled = (unit * magnitude).to(dtype);
        ShouldBeFiniteAndDeterministic(scaled, labels, $"magnitude {magnitude}");

        // Cosine similarity ignores the scale, so the loss is the one of the unit-scale features.
        Run(scaled, labels).Loss.Should().BeApproximately(Run(unit.to(dtype), labels).Loss, 1e-6);
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
