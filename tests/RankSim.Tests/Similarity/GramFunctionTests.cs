namespace RankSim.Tests.Similarity;

/// <summary>
/// <see cref="GramFunction"/>'s fused forward and backward against autograd through the plain formula: index_select,
/// division by each row's (detached) largest magnitude, <c>normalize</c>, and a matrix product.
/// </summary>
public class GramFunctionTests
{
    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void SimilarityAndGradientEqualAutogradThroughThePlainFormula(bool cosine, bool subset)
    {
        var generator = new Generator(11);
        using var features = (randn(12, 7, dtype: ScalarType.Float64, generator: generator) * 3).requires_grad_();
        using var upstream = randn(subset ? 5 : 12, subset ? 5 : 12, dtype: ScalarType.Float64, generator: generator);
        using var rows = subset ? tensor(new long[] { 0, 3, 4, 8, 11 }) : null;

        using var reference = features.detach().clone().requires_grad_();
        var kept = rows is null ? reference : reference.index_select(0, rows);
        var n = cosine
            ? nn.functional.normalize(kept / kept.detach().abs().amax([1], keepdim: true), p: 2.0, dim: 1, eps: 1e-12)
            : kept;
        var expected = n.mm(n.t());
        (expected * upstream).sum().backward();

        var similarity = SimilarityMatrix.Pairwise(features, cosine ? FeatureSimilarity.Cosine : FeatureSimilarity.DotProduct, rows);
        (similarity * upstream).sum().backward();

        similarity.Doubles().Zip(expected.Doubles(), (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-12);
        var gradient = features.grad!.Doubles();
        var expectedGradient = reference.grad!.Doubles();
        gradient.Zip(expectedGradient, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-10);
        if (subset)
        {
            gradient.Chunk(7).Where((_, row) => row is 1 or 2 or 5 or 6 or 7 or 9 or 10).SelectMany(r => r).Should().OnlyContain(v => v == 0);
        }
    }

    /// <summary>
    /// The CPU kernel function (<see cref="GramFunction"/> (on its CPU kernel path), float32) matches the formula in float64.
    /// The dimensions reach every loop of the row kernels: 16 values at a time, 8 at a time, and the rest one by one.
    /// </summary>
    [Theory]
    [InlineData(true, true, 12, 19)]
    [InlineData(true, false, 12, 19)]
    [InlineData(false, true, 12, 19)]
    [InlineData(false, false, 12, 19)]
    [InlineData(true, true, 12, 27)]
    [InlineData(true, true, 700, 515)]
    [InlineData(false, false, 700, 515)]
    public void Float32RowKernelsEqualTheFormulaInFloat64(bool cosine, bool subset, int batch, int dimension)
    {
        var generator = new Generator(12);
        // A transposed copy: non-contiguous features, as a reshape of a permuted tensor would give.
        using var source = randn(dimension, batch, generator: generator) * 3;
        using var features = source.t().requires_grad_();
        using var rows = subset ? randperm(batch, generator: generator)[TensorIndex.Slice(0, (batch * 2) / 3)].contiguous() : null;
        long m = rows?.shape[0] ?? batch;
        using var upstream = randn(m, m, generator: generator);

        using var reference = features.detach().to(ScalarType.Float64).requires_grad_();
        var kept = rows is null ? reference : reference.index_select(0, rows);
        var n = cosine
            ? nn.functional.normalize(kept / kept.detach().abs().amax([1], keepdim: true), p: 2.0, dim: 1, eps: 1e-12)
            : kept;
        var expected = n.mm(n.t());
        (expected * upstream.to(ScalarType.Float64)).sum().backward();

        var similarity = GramFunction.Apply(features, rows, cosine);
        (similarity * upstream).sum().backward();

        similarity.dtype.Should().Be(ScalarType.Float32);
        double similarityScale = expected.abs().max().item<double>();
        similarity.to(ScalarType.Float64).sub(expected).abs().max().item<double>().Should().BeLessThan(2e-6 * similarityScale);
        var gradient = features.grad!.to(ScalarType.Float64);
        double gradientScale = reference.grad!.abs().max().item<double>();
        gradient.sub(reference.grad!).abs().max().item<double>().Should().BeLessThan(2e-5 * gradientScale);
        if (rows is not null)
        {
            using var dropped = ones(batch, dtype: ScalarType.Bool).index_fill_(0, rows, false);
            gradient[dropped].abs().max().item<double>().Should().Be(0);
        }
    }

    [Fact]
    public void AnAllZeroRowHasZeroSimilarities()
    {
        using var features = randn(4, 5, generator: new Generator(2));
        features[2] = zeros(5);
        using var similarity = SimilarityMatrix.Pairwise(features, FeatureSimilarity.Cosine);
        similarity[2].Floats().Should().OnlyContain(v => v == 0);
        similarity.Floats().Should().OnlyContain(v => float.IsFinite(v));
    }

    /// <summary>
    /// S's gradient is summed with its transpose in place only where the caller said no one else reads it: a gradient the
    /// caller passes in stays as it was, and the result is the same either way, bit for bit.
    /// </summary>
    [Fact]
    public void TheUpstreamGradientIsOverwrittenOnlyWhenPrivate()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var features = randn(40, 8, generator: generator);
        var upstream = randn(40, 40, generator: generator);
        var kept = upstream.clone();

        var shared = features.clone().requires_grad_();
        GramFunction.Apply(shared, null, cosine: true).backward([upstream]);
        upstream.Doubles().Should().Equal(kept.Doubles(), "the caller's gradient is not the function's to change");

        var owned = features.clone().requires_grad_();
        GramFunction.Apply(owned, null, cosine: true, privateGradient: true).backward([upstream.clone()]);
        owned.grad!.Doubles().Should().Equal(shared.grad!.Doubles());
    }
}
