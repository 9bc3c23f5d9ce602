using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>The blackbox ranker alone: BlackboxRank.Apply forward + backward on an [M, M] similarity matrix.</summary>
[MemoryDiagnoser]
public class RankerBenchmarks
{
    private Tensor _scores = null!;
    private Tensor _upstream = null!;

    /// <summary>M.</summary>
    [Params(256, 1024, 4096)]
    public int M { get; set; }

    /// <summary>Random scores and upstream gradient.</summary>
    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Environment.ProcessorCount);
        _scores = rand(M, M, generator: new Generator(1)).requires_grad_();
        _upstream = randn(M, M, generator: new Generator(2)) * 1e-3;
    }

    /// <summary>Forward and backward of the ranker.</summary>
    [Benchmark]
    public void BlackboxRankForwardBackward()
    {
        using var scope = NewDisposeScope();
        BlackboxRank.Apply(_scores, 2.0).backward([_upstream]);
    }
}
