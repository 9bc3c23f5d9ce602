using TorchSharp;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Cpu;

/// <summary>
/// The one place that decides, step by step, whether a RankSim call runs the managed CPU kernels of this folder or the
/// device-agnostic tensor formulas (what CUDA runs, and the reference the kernels are tested against). A kernel is
/// taken only when the inputs are on the CPU, in a dtype it computes, and small enough that every buffer it reads or
/// writes through a managed span stays within <see cref="MaxSpanBytes"/>; otherwise, or when the kernels are switched
/// off (<see cref="DisableSwitchName"/>), the tensor formula runs. Both give the same ranks; the float results agree to
/// float32 rounding. Every decision is made before an autograd function is applied, so a backward pass only follows it.
/// </summary>
internal static class CpuKernels
{
    /// <summary>
    /// The <see cref="AppContext"/> switch that forces the device-agnostic tensor path on the CPU (read once, at the
    /// first RankSim call): <c>AppContext.SetSwitch("RankSim.DisableCpuKernels", true)</c> or, in a project file,
    /// <c>&lt;RuntimeHostConfigurationOption Include="RankSim.DisableCpuKernels" Value="true" /&gt;</c>.
    /// </summary>
    public const string DisableSwitchName = "RankSim.DisableCpuKernels";

    /// <summary>The most bytes a kernel may read or write through one managed span (spans are int-indexed).</summary>
    public const long MaxSpanBytes = int.MaxValue;

    private static readonly bool DisabledBySwitch = AppContext.TryGetSwitch(DisableSwitchName, out bool disabled) && disabled;

    private static readonly AsyncLocal<bool> ReferenceInThisFlow = new();

    /// <summary>Whether the CPU kernels may run: not disabled by the switch, nor for this flow of execution (tests).</summary>
    public static bool Enabled => !DisabledBySwitch && !ReferenceInThisFlow.Value;

    /// <summary>Whether the process-wide switch turned the kernels off.</summary>
    public static bool DisabledByAppContextSwitch => DisabledBySwitch;

    /// <summary>
    /// Forces the tensor formulas (<paramref name="reference"/> true) for the current thread and the tasks and threads it
    /// starts, until the returned object is disposed. Used by the tests to run the whole suite in both modes in one process.
    /// </summary>
    public static IDisposable UseReferencePath(bool reference = true)
    {
        bool previous = ReferenceInThisFlow.Value;
        ReferenceInThisFlow.Value = reference;
        return new Restore(previous);
    }

    /// <summary>Whether every value of <paramref name="tensor"/> is finite; null when no kernel reads it (the caller uses libtorch).</summary>
    public static bool? AllFinite(Tensor tensor) =>
        Enabled && tensor.device_type == DeviceType.CPU && tensor.is_contiguous() && FitsOneSpan(tensor.numel(), tensor.ElementSize)
            ? FiniteScan.AllFinite(tensor)
            : null;

    /// <summary>
    /// Whether every value of an int64 tensor lies in [-<paramref name="bound"/>, <paramref name="bound"/>]; null when
    /// no kernel reads it (the caller uses libtorch).
    /// </summary>
    public static bool? AllWithin(Tensor tensor, long bound) =>
        Enabled && tensor.device_type == DeviceType.CPU && tensor.dtype == ScalarType.Int64 && tensor.is_contiguous()
            && FitsOneSpan(tensor.numel(), sizeof(long))
            ? FiniteScan.AllWithin(tensor, bound)
            : null;

    /// <summary>One sample per distinct label of <paramref name="labels"/> [B, K] (see <see cref="DistinctLabelSampler.Sample"/>).</summary>
    public static Tensor? SampleDistinctLabels(Tensor labels, Generator? generator)
    {
        bool kernel = Enabled && labels.device_type == DeviceType.CPU && labels.shape[1] == 1 && labels.is_contiguous()
            && labels.dtype is ScalarType.Float32 or ScalarType.Float64 && FitsOneSpan(labels.shape[0], sizeof(double));
        return kernel ? ScalarLabelSampler.Sample(labels, generator) : DistinctLabelSampler.Sample(labels, generator);
    }

    /// <summary>Ascending ranks [M, M] of the label distances along each row, for labels [M, K] in a floating dtype (see <see cref="LabelSimilarity.Ranks"/>).</summary>
    public static Tensor LabelRanks(Tensor labels, RankTies ties)
    {
        bool scalarKernel = Enabled && labels.device_type == DeviceType.CPU && labels.shape[1] == 1
            && labels.dtype is ScalarType.Float32 or ScalarType.Float64 && FiniteScan.AllFinite(labels) is true
            && FitsOneRow(labels.shape[0], labels.ElementSize);
        var ranks = scalarKernel ? ScalarLabelRanker.TryRank(labels, ties) : null;
        if (ranks is not null)
        {
            return ranks;
        }

        using var scope = NewDisposeScope();
        return Ranks(LabelSimilarity.Distances(labels), descending: false, ties).MoveToOuterDisposeScope();
    }

    /// <summary>Normalized ranks of each row of <paramref name="values"/> [R, N] in its floating dtype (see <see cref="RankSim.Ranks"/>).</summary>
    public static Tensor Ranks(Tensor values, bool descending, RankTies ties)
    {
        bool kernel = Enabled && values.device_type == DeviceType.CPU && values.dim() == 2
            && values.dtype is ScalarType.Float32 or ScalarType.Float64 && FitsOneRow(values.shape[1], values.ElementSize);
        if (kernel)
        {
            return RowRanker.Rank(values, descending, ties);
        }

        return descending ? RankSim.Ranks.Descending(values, ties) : RankSim.Ranks.Ascending(values, ties);
    }

    /// <summary>
    /// The similarity matrix [M, M] of the rows <paramref name="rows"/> (null: all) of features [B, D] in float32 or
    /// float64, differentiable (see <see cref="FeatureSimilarities.Pairwise"/>).
    /// </summary>
    public static Tensor Similarity(Tensor features, FeatureSimilarity similarity, Tensor? rows)
    {
        if (similarity == FeatureSimilarity.CenteredCosine)
        {
            // Centering is a few tensor operations on the kept rows on every path; the cosine of the centered rows is a kernel's.
            using var scope = NewDisposeScope();
            return Similarity(FeatureSimilarities.Center(features, rows), FeatureSimilarity.Cosine, null).MoveToOuterDisposeScope();
        }

        long batch = features.shape[0];
        long dimension = features.shape[1];
        long kept = rows?.shape[0] ?? batch;
        bool kernel = Enabled && features.device_type == DeviceType.CPU && features.dtype == ScalarType.Float32
            && FitsOneSpan(batch * dimension, sizeof(float)) && FitsOneSpan(kept * dimension, sizeof(float))
            && FitsOneSpan(kept * kept, sizeof(float));
        bool cosine = similarity == FeatureSimilarity.Cosine;
        return kernel ? GramRowsFunction.apply(features, rows!, cosine) : FeatureSimilarities.Pairwise(features, similarity, rows);
    }

    /// <summary>The RankSim objective of similarities S [M, M] and label ranks RL [M, M] (see <see cref="RankSimObjective.Reference"/>).</summary>
    public static Tensor Objective(Tensor similarity, Tensor labelRanks, double lambda, Reduction reduction, PerturbationScaling scaling)
    {
        bool kernel = Enabled && similarity.device_type == DeviceType.CPU && similarity.dtype == ScalarType.Float32
            && FitsOneRow(similarity.shape[1], sizeof(float));
        return kernel
            ? FusedObjectiveFunction.Apply(similarity, labelRanks, lambda, reduction, scaling)
            : RankSimObjective.Reference(similarity, labelRanks, lambda, reduction, scaling);
    }

    /// <summary>
    /// The RankSim objective with soft feature ranks (<see cref="SoftRanks"/>) of similarities S [M, M] in place of the
    /// blackbox ranks (see <see cref="RankSimObjective.FromRanks"/>); the mean squares and reduction are tensor operations
    /// on every path.
    /// </summary>
    public static Tensor SoftObjective(Tensor similarity, Tensor labelRanks, double regularization, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        return RankSimObjective.FromRanks(SoftRanks(similarity, regularization), labelRanks, reduction).MoveToOuterDisposeScope();
    }

    /// <summary>Soft normalized descending ranks of a 1-D or 2-D tensor (see <see cref="SoftRank.Apply"/>).</summary>
    public static Tensor SoftRanks(Tensor scores, double regularization)
    {
        bool kernel = Enabled && scores.device_type == DeviceType.CPU && FitsOneRow(scores.shape[^1], sizeof(double));
        return kernel ? SoftRankRowsFunction.apply(scores, regularization) : SoftRank.SoftRankFunction.apply(scores, regularization);
    }

    /// <summary>Blackbox-differentiable descending ranks of a 1-D or 2-D tensor (see <see cref="RankSim.BlackboxRank.Apply"/>).</summary>
    public static Tensor BlackboxRank(Tensor scores, double lambda)
    {
        bool kernel = Enabled && scores.device_type == DeviceType.CPU && FitsOneRow(scores.shape[^1], sizeof(double));
        return kernel ? BlackboxRankRowsFunction.apply(scores, lambda, false) : RankSim.BlackboxRank.BlackboxRankFunction.apply(scores, lambda, false);
    }

    /// <summary>Whether <paramref name="elements"/> values of <paramref name="elementBytes"/> bytes fit one span.</summary>
    private static bool FitsOneSpan(long elements, long elementBytes) => elements <= MaxSpanBytes / elementBytes;

    /// <summary>Whether one row of <paramref name="elements"/> values fits one block of <see cref="RowBlocks"/> (which reads rows block by block).</summary>
    private static bool FitsOneRow(long elements, long elementBytes) => elements <= RowBlocks.MaxBlockBytes / elementBytes;

    private sealed class Restore(bool previous) : IDisposable
    {
        public void Dispose() => ReferenceInThisFlow.Value = previous;
    }
}
