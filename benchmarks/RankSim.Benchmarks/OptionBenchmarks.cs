using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// Forward + backward of RankSimLoss with each option beyond the paper against the paper's configuration (the
/// baseline), on the same inputs; the Ratio column is option / paper.
/// </summary>
[MemoryDiagnoser]
public class OptionBenchmarks
{
    private RankSimLoss _loss = null!;
    private Tensor _features = null!;
    private Tensor _labels = null!;

    /// <summary>Age-like B = 256, D = 2048 (about 55 distinct labels), and continuous B = 256 and 1024 (M = B).</summary>
    public static IEnumerable<BenchmarkCase> Cases => [new(256, 2048, true), new(256, 512, false), new(1024, 512, false)];

    /// <summary>The case being measured.</summary>
    [ParamsSource(nameof(Cases))]
    public BenchmarkCase Case { get; set; } = null!;

    /// <summary>The configuration being measured.</summary>
    [Params("Paper", "PerRow", "CenteredCosine", "Soft", "SoftCentered")]
    public string Option { get; set; } = "Paper";

    /// <summary>Builds the inputs and the loss.</summary>
    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Environment.ProcessorCount);
        var (features, labels) = BenchmarkData.Create(Case, seed: 1);
        _features = features.requires_grad_();
        _labels = labels;
        var similarity = Option is "CenteredCosine" or "SoftCentered" ? FeatureSimilarity.CenteredCosine : FeatureSimilarity.Cosine;
        FeatureRanking ranking = Option is "Soft" or "SoftCentered"
            ? FeatureRanking.Soft()
            : FeatureRanking.Blackbox(scaling: Option == "PerRow" ? PerturbationScaling.PerRow : PerturbationScaling.Paper);
        _loss = new RankSimLoss(ranking, similarity, generator: new Generator(2));
    }

    /// <summary>One forward and backward pass.</summary>
    [Benchmark]
    public void ForwardBackward()
    {
        using var scope = NewDisposeScope();
        _loss.call(_features, _labels).backward();
    }
}
