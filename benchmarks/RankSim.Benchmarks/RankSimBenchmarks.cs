using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// Forward + backward of RankSimLoss against the loop baseline and the primitive floor, on the same inputs; the
/// Ratio column is method / baseline.
/// </summary>
[MemoryDiagnoser]
public abstract class RankSimBenchmarksBase
{
    private RankSimLoss _loss = null!;
    private Generator _generator = null!;
    private Tensor _features = null!;
    private Tensor _labels = null!;
    private Tensor _keptFeatures = null!;
    private Tensor _labelSimilarity = null!;
    private Tensor _upstream = null!;

    /// <summary>The case being measured.</summary>
    public abstract BenchmarkCase Case { get; set; }

    /// <summary>Builds the inputs (and the floor's [M, M] inputs for the same M).</summary>
    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Environment.ProcessorCount);
        var (features, labels) = BenchmarkData.Create(Case, seed: 1);
        _features = features.requires_grad_();
        _labels = labels;
        _generator = new Generator(2);
        _loss = new RankSimLoss(generator: _generator);
        long distinct = labels.unique().Item1.shape[0];
        _keptFeatures = features.detach()[TensorIndex.Slice(0, distinct)].clone().requires_grad_();
        var y = labels[TensorIndex.Slice(0, distinct)].to(ScalarType.Float32);
        _labelSimilarity = -(y.unsqueeze(1) - y.unsqueeze(0)).abs();
        _upstream = randn(distinct, distinct, generator: new Generator(3)) * 1e-3;
    }

    /// <summary>The reference structure: loops over labels and anchors.</summary>
    [Benchmark(Baseline = true)]
    public void LoopBaselineForwardBackward()
    {
        using var scope = NewDisposeScope();
        LoopBaseline.Loss(_features, _labels, 2.0, _generator).backward();
    }

    /// <summary>This package's vectorized loss.</summary>
    [Benchmark]
    public void RankSimLossForwardBackward()
    {
        using var scope = NewDisposeScope();
        _loss.call(_features, _labels).backward();
    }

    /// <summary>
    /// The same loss on the device-agnostic tensor path (CPU kernels off, as the AppContext switch
    /// <c>RankSim.DisableCpuKernels</c> turns them off): what the generic code that CUDA runs costs on this CPU.
    /// </summary>
    [Benchmark]
    public void ReferencePathForwardBackward()
    {
        using var path = RankSim.Cpu.CpuKernels.UseReferencePath();
        using var scope = NewDisposeScope();
        _loss.call(_features, _labels).backward();
    }

    /// <summary>The primitives alone.</summary>
    [Benchmark]
    public void PrimitiveFloorForwardBackward()
    {
        using var scope = NewDisposeScope();
        PrimitiveFloor.Run(_keptFeatures, _labelSimilarity, _upstream);
    }
}

/// <summary>The cases up to B = 1024 (age-like labels at B = 64 and 256, D = 512 and 2048; continuous at B = 256 and 1024).</summary>
public class RankSimBenchmarks : RankSimBenchmarksBase
{
    /// <summary>The cases.</summary>
    public static IEnumerable<BenchmarkCase> Cases() =>
    [
        new(64, 512, true), new(64, 2048, true), new(256, 512, true), new(256, 2048, true),
        new(256, 512, false), new(1024, 512, false),
    ];

    /// <inheritdoc />
    [ParamsSource(nameof(Cases))]
    public override BenchmarkCase Case { get; set; } = null!;
}

/// <summary>
/// Continuous labels at B = 4096: the loop baseline takes minutes per call here, so fewer iterations of one call each
/// (BenchmarkDotNet would otherwise make at least four calls per iteration).
/// </summary>
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1)]
public class LargeBatchBenchmarks : RankSimBenchmarksBase
{
    /// <summary>The case.</summary>
    public static IEnumerable<BenchmarkCase> Cases() => [new(4096, 512, false)];

    /// <inheritdoc />
    [ParamsSource(nameof(Cases))]
    public override BenchmarkCase Case { get; set; } = null!;
}
