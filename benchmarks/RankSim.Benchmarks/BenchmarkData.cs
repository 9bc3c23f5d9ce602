using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>One benchmark shape: batch size B, feature dimension D, and the kind of labels.</summary>
public sealed record BenchmarkCase(int BatchSize, int FeatureDim, bool AgeLike)
{
    /// <inheritdoc />
    public override string ToString() => $"{(AgeLike ? "age" : "cont")} B={BatchSize} D={FeatureDim}";
}

/// <summary>Deterministic inputs for a case.</summary>
internal static class BenchmarkData
{
    /// <summary>
    /// Features [B, D] (standard normal) and labels [B]: integer ages 0..100 drawn with probability proportional to
    /// exp(-|a - 30| / 10) (long-tailed, many repeats), or distinct continuous labels.
    /// </summary>
    public static (Tensor Features, Tensor Labels) Create(BenchmarkCase c, long seed)
    {
        var generator = new Generator((ulong)seed);
        var features = randn(c.BatchSize, c.FeatureDim, generator: generator);
        Tensor labels;
        if (c.AgeLike)
        {
            var ages = arange(101, dtype: ScalarType.Float32);
            var probabilities = (-(ages - 30).abs() / 10).exp();
            labels = multinomial(probabilities, c.BatchSize, replacement: true, generator: generator);
        }
        else
        {
            labels = rand(c.BatchSize, generator: generator) * 100;
        }

        return (features, labels);
    }

    /// <summary>
    /// The probes' common start: <paramref name="threads"/> intra-op threads, the case's features (requiring grad) and
    /// labels, the sampling generator and a RankSimLoss with the paper's defaults that draws from it.
    /// </summary>
    public static (Tensor Features, Tensor Labels, Generator Generator, RankSimLoss Loss) Probe(BenchmarkCase c, int threads)
    {
        set_num_threads(threads);
        var (features, labels) = Create(c, seed: 1);
        var generator = new Generator(2);
        return (features.requires_grad_(), labels, generator, new RankSimLoss(generator: generator));
    }
}
