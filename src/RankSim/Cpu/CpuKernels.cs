using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// The one place that decides whether a formula runs the managed CPU primitive of this folder or its device-agnostic
/// tensor formula (what CUDA runs, and the reference the primitives are tested against): each formula asks the
/// <c>Takes...</c> predicate of its primitive, once per call, and its autograd function saves the answer for backward.
/// A primitive is taken only when the inputs are on the CPU, in a dtype it computes, and small enough that every buffer
/// it reads or writes through a managed span stays within <see cref="MaxSpanBytes"/>; otherwise, or when the kernels are
/// switched off (<see cref="DisableSwitchName"/>), the tensor formula runs. Both give the same ranks; the float results
/// agree to float32 rounding. Nothing here names a formula: this folder is the leaf below them.
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

    /// <summary>Whether <see cref="ScalarLabelSampler"/> groups these labels [B, K]: a contiguous float32 or float64 column on the CPU.</summary>
    public static bool TakesScalarLabelSample(Tensor labels) =>
        Enabled && labels.device_type == DeviceType.CPU && labels.shape[1] == 1 && labels.is_contiguous()
        && labels.dtype is ScalarType.Float32 or ScalarType.Float64 && FitsOneSpan(labels.shape[0], sizeof(double));

    /// <summary>Whether <see cref="ScalarLabelRanker"/> ranks the distances of these labels [M, K]: a finite float32 or float64 column on the CPU.</summary>
    public static bool TakesScalarLabelRanks(Tensor labels) =>
        Enabled && labels.device_type == DeviceType.CPU && labels.shape[1] == 1
        && labels.dtype is ScalarType.Float32 or ScalarType.Float64 && FiniteScan.AllFinite(labels) is true
        && FitsOneRow(labels.shape[0], labels.ElementSize);

    /// <summary>Whether <see cref="RowRanker"/> ranks the rows of <paramref name="values"/>: float32 or float64 [R, N] on the CPU.</summary>
    public static bool TakesRowRanks(Tensor values) =>
        Enabled && values.device_type == DeviceType.CPU && values.dim() == 2
        && values.dtype is ScalarType.Float32 or ScalarType.Float64 && FitsOneRow(values.shape[1], values.ElementSize);

    /// <summary>
    /// Whether <see cref="GramRows"/> computes the similarity of <paramref name="kept"/> rows of float32 features [B, D] on
    /// the CPU: every buffer it reads or writes fits one span.
    /// </summary>
    public static bool TakesGram(Tensor features, long kept)
    {
        long batch = features.shape[0];
        long dimension = features.shape[1];
        return Enabled && features.device_type == DeviceType.CPU && features.dtype == ScalarType.Float32
            && FitsOneSpan(batch * dimension, sizeof(float)) && FitsOneSpan(kept * dimension, sizeof(float))
            && FitsOneSpan(kept * kept, sizeof(float));
    }

    /// <summary>Whether <see cref="FusedObjectiveRows"/> computes the objective of float32 similarities [M, M] on the CPU.</summary>
    public static bool TakesFusedObjective(Tensor similarity) =>
        Enabled && similarity.device_type == DeviceType.CPU && similarity.dtype == ScalarType.Float32
        && FitsOneRow(similarity.shape[1], sizeof(float));

    /// <summary>
    /// Whether the row kernels (<see cref="RowRanker"/> and <see cref="BlackboxGradientRows"/>, or
    /// <see cref="SoftRankRows"/>) rank the scores [N] or [R, N] along their last dimension on the CPU.
    /// </summary>
    public static bool TakesScoreRows(Tensor scores) =>
        Enabled && scores.device_type == DeviceType.CPU && FitsOneRow(scores.shape[^1], sizeof(double));

    /// <summary>Whether <paramref name="elements"/> values of <paramref name="elementBytes"/> bytes fit one span.</summary>
    private static bool FitsOneSpan(long elements, long elementBytes) => elements <= MaxSpanBytes / elementBytes;

    /// <summary>Whether one row of <paramref name="elements"/> values fits one block of <see cref="RowBlocks"/> (which reads rows block by block).</summary>
    private static bool FitsOneRow(long elements, long elementBytes) => elements <= RowBlocks.MaxBlockBytes / elementBytes;

    private sealed class Restore(bool previous) : IDisposable
    {
        public void Dispose() => ReferenceInThisFlow.Value = previous;
    }
}
