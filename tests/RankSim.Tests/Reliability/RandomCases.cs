namespace RankSim.Tests.Reliability;

/// <summary>A seeded source of random RankSim inputs for the property tests (deterministic for a given seed).</summary>
internal sealed class RandomCases(int seed)
{
    private readonly Random _random = new(seed);

    public int Next(int min, int maxInclusive) => _random.Next(min, maxInclusive + 1);

    public double Uniform(double min, double max) => min + (max - min) * _random.NextDouble();

    /// <summary>Lambda log-uniform in (0.1, 20).</summary>
    public double Lambda() => Math.Exp(Uniform(Math.Log(0.1), Math.Log(20)));

    public ScalarType FloatDtype() => _random.Next(2) == 0 ? ScalarType.Float32 : ScalarType.Float64;

    /// <summary>Features [B, D] with B in 1..300 and D in 1..64, standard normal.</summary>
    public Tensor Features(ScalarType dtype, int? batch = null) =>
        randn(batch ?? Next(1, 300), Next(1, 64), dtype: dtype, generator: new Generator((ulong)_random.Next()));

    /// <summary>Labels [B]: integers with many repeats, or continuous values (distinct, and with no tied distances, almost surely).</summary>
    public Tensor Labels(long batch, bool repeats) => repeats
        ? randint(0, Next(1, 40), batch, generator: new Generator((ulong)_random.Next()))
        : rand(batch, dtype: ScalarType.Float64, generator: new Generator((ulong)_random.Next())) * Uniform(0.1, 300) + Uniform(-50, 50);
}
