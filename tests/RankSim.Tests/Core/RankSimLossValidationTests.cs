namespace RankSim.Tests.Core;

public abstract class RankSimLossValidationTests(bool referencePath) : BothPaths(referencePath)
{
    private static readonly RankSimLoss Loss = new();

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(1e31)]
    public void LambdaMustBeFiniteAndPositive(double lambda) =>
        FluentActions.Invoking(() => new RankSimLoss(FeatureRanking.Blackbox(lambda))).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("interpolationLambda").WithMessage("*finite number greater than 0*");

    [Fact]
    public void UnknownEnumValuesAreRejected()
    {
        FluentActions.Invoking(() => new RankSimLoss(similarity: (FeatureSimilarity)7)).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("similarity");
        FluentActions.Invoking(() => new RankSimLoss(labelTies: (RankTies)7)).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("labelTies");
        FluentActions.Invoking(() => new RankSimLoss(reduction: (nn.Reduction)7)).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("reduction");
    }

    [Fact]
    public void SparseAndQuantizedTensorsAreRejectedWithArgumentExceptions()
    {
        using var scope = NewDisposeScope();
        var features = randn(6, 3, generator: new Generator(1));
        var labels = arange(6, dtype: ScalarType.Float32);
        FluentActions.Invoking(() => Loss.call(features.to_sparse(), labels)).Should().Throw<ArgumentException>()
            .WithParameterName("features").WithMessage("*sparse*");
        FluentActions.Invoking(() => Loss.call(features, labels.to_sparse())).Should().Throw<ArgumentException>()
            .WithParameterName("labels").WithMessage("*sparse*");
        var quantized = quantize_per_tensor(features, 0.1, 0, ScalarType.QInt8);
        FluentActions.Invoking(() => Loss.call(quantized, labels)).Should().Throw<ArgumentException>()
            .WithParameterName("features");
        FluentActions.Invoking(() => BlackboxRank.Apply(features.to_sparse(), 2.0)).Should().Throw<ArgumentException>()
            .WithParameterName("scores").WithMessage("*sparse*");
    }

    [Fact]
    public void Int64LabelsBeyondTwoToTheFiftyThirdAreRejected()
    {
        using var scope = NewDisposeScope();
        var features = randn(4, 3, generator: new Generator(2));
        var near = tensor(new[] { (1L << 53) + 1, 1L << 53, 0L, 5L });
        FluentActions.Invoking(() => Loss.call(features, near)).Should().Throw<ArgumentException>()
            .WithParameterName("labels").WithMessage("*2^53*");
        FluentActions.Invoking(() => Loss.call(features, tensor(new[] { long.MinValue, 0L, 1L, 2L }))).Should().Throw<ArgumentException>()
            .WithParameterName("labels");

        // 2^53 itself and below are exact in float64 and accepted: neighbours stay distinct.
        var exact = tensor(new[] { 1L << 53, (1L << 53) - 1, (1L << 53) - 2, -(1L << 53) });
        double.IsFinite(Loss.call(features, exact).item<float>()).Should().BeTrue();
    }

    [Fact]
    public void DisposedOrMetaGeneratorsAreRejectedBeforeAnythingRuns()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => new RankSimLoss(generator: new Generator(1, device: META))).Should().Throw<ArgumentException>()
            .WithParameterName("generator").WithMessage("*CPU*");
        var generator = new Generator(3);
        var loss = new RankSimLoss(generator: generator);
        generator.Dispose();
        FluentActions.Invoking(() => loss.call(randn(5, 2), tensor(new[] { 1f, 1f, 2f, 2f, 3f }))).Should().Throw<ArgumentException>()
            .WithParameterName("generator").WithMessage("*disposed*");
    }

    [Fact]
    public void NullInputsAreRejected()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => Loss.call(null!, ones(3))).Should().Throw<ArgumentNullException>().WithParameterName("features");
        FluentActions.Invoking(() => Loss.call(ones(3, 2), null!)).Should().Throw<ArgumentNullException>().WithParameterName("labels");
    }

    [Fact]
    public void FeaturesNeedTwoDimensions()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => Loss.call(ones(5), ones(5))).Should().Throw<ArgumentException>()
            .WithParameterName("features").WithMessage("*at least 2 dimensions*[5]*");
    }

    [Fact]
    public void LabelsWithMoreThanTwoDimensionsAreRejected()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => Loss.call(ones(4, 2), ones(4, 1, 1))).Should().Throw<ArgumentException>()
            .WithParameterName("labels").WithMessage("*[B], [B, 1] or [B, K]*");
        FluentActions.Invoking(() => Loss.call(ones(4, 2), tensor(1.0f))).Should().Throw<ArgumentException>().WithParameterName("labels");
    }

    [Fact]
    public void BatchSizesMustAgree()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => Loss.call(ones(4, 2), ones(5))).Should().Throw<ArgumentException>()
            .WithParameterName("labels").WithMessage("*batch size 5*features has 4*");
    }

    [Fact]
    public void EmptyBatchesAndEmptyFeaturesAreRejected()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => Loss.call(ones(0, 3), ones(0))).Should().Throw<ArgumentException>().WithMessage("*empty*");
        FluentActions.Invoking(() => Loss.call(ones(3, 0), ones(3))).Should().Throw<ArgumentException>()
            .WithParameterName("features").WithMessage("*no feature values*");
        FluentActions.Invoking(() => Loss.call(ones(3, 2), ones(3, 0))).Should().Throw<ArgumentException>().WithParameterName("labels");
    }

    [Fact]
    public void DtypesMustFit()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => Loss.call(ones(3, 2, dtype: ScalarType.Int32), ones(3))).Should().Throw<ArgumentException>()
            .WithParameterName("features").WithMessage("*floating-point*");
        FluentActions.Invoking(() => Loss.call(ones(3, 2), ones(3, dtype: ScalarType.Bool))).Should().Throw<ArgumentException>()
            .WithParameterName("labels").WithMessage("*real numbers*");
        FluentActions.Invoking(() => Loss.call(ones(3, 2), ones(3, dtype: ScalarType.ComplexFloat32))).Should().Throw<ArgumentException>()
            .WithParameterName("labels");
    }

    [Theory]
    [InlineData(double.NaN, false)]
    [InlineData(double.PositiveInfinity, false)]
    [InlineData(double.NegativeInfinity, true)]
    [InlineData(double.NaN, true)]
    public void NonFiniteValuesAreRejectedByDefault(double bad, bool inLabels)
    {
        using var scope = NewDisposeScope();
        var features = randn(4, 3);
        var labels = randn(4);
        (inLabels ? labels : features)[1] = bad;
        FluentActions.Invoking(() => Loss.call(features, labels)).Should().Throw<ArgumentException>()
            .WithParameterName(inLabels ? "labels" : "features").WithMessage("*NaN or infinite*");
    }

    [Fact]
    public void TheFiniteCheckCanBeSwitchedOff()
    {
        using var scope = NewDisposeScope();
        var features = randn(4, 3).requires_grad_();
        var labels = tensor(new[] { 1.0f, 2.0f, 3.0f, float.NaN });
        var value = new RankSimLoss(checkFinite: false).call(features, labels);
        value.backward();
        features.grad.Should().NotBeNull();
    }

    [Fact]
    public void WithoutTheFiniteCheckAnInfiniteFeatureGivesWhatTheDocumentationSays()
    {
        // Documented: the ranks still order a non-finite value, so the loss can come out finite, while the gradient of
        // the features is NaN; nothing is thrown.
        using var scope = NewDisposeScope();
        var start = randn(20, 4, generator: new Generator(9));
        start[3, 1] = float.PositiveInfinity;
        var features = start.requires_grad_();
        var value = new RankSimLoss(checkFinite: false, generator: new Generator(1)).call(features, arange(20, dtype: ScalarType.Float32));
        value.backward();
        float.IsFinite(value.item<float>()).Should().BeTrue();
        features.grad!.Floats().Should().Contain(float.NaN);
        FluentActions.Invoking(() => new RankSimLoss().call(features, arange(20, dtype: ScalarType.Float32))).Should()
            .Throw<ArgumentException>().WithParameterName("features");
    }

    [Fact]
    public void ASavedInputChangedInPlaceBeforeBackwardRaisesLibTorchsMessageNamingIt()
    {
        using var scope = NewDisposeScope();
        var features = randn(20, 4, generator: new Generator(6)).requires_grad_();
        var value = new RankSimLoss(similarity: FeatureSimilarity.DotProduct).call(features, arange(20, dtype: ScalarType.Float32));
        using (no_grad())
        {
            features.mul_(2);
        }

        FluentActions.Invoking(() => value.backward()).Should().Throw<Exception>()
            .WithMessage("*modified by an inplace operation*[20, 4]*");

        var scores = randn(5, 7, generator: new Generator(7)).requires_grad_();
        var ranks = ranksim.nn.functional.blackbox_rank(scores);
        using (no_grad())
        {
            scores.add_(1);
        }

        FluentActions.Invoking(() => ranks.sum().backward()).Should().Throw<Exception>()
            .WithMessage("*modified by an inplace operation*[5, 7]*");
    }

    [Fact]
    public void MetaTensorsAreRejected()
    {
        // Only the CPU exists on the CI machines, so a mismatch of two real devices cannot be staged here; the meta
        // device, which holds shapes but no values, is rejected by name.
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => Loss.call(randn(4, 3), empty(4, device: torch.device("meta")))).Should().Throw<ArgumentException>()
            .WithParameterName("labels").WithMessage("*meta device*");
        FluentActions.Invoking(() => Loss.call(empty(4, 3, device: torch.device("meta")), randn(4))).Should().Throw<ArgumentException>()
            .WithParameterName("features").WithMessage("*meta device*");
    }
}

/// <summary><see cref="RankSimLossValidationTests"/> with the CPU kernels.</summary>
public sealed class RankSimLossValidationWithKernelsTests() : RankSimLossValidationTests(referencePath: false);

/// <summary><see cref="RankSimLossValidationTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class RankSimLossValidationOnReferencePathTests() : RankSimLossValidationTests(referencePath: true);
