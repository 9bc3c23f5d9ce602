
namespace RankSim.Cpu;

/// <summary>
/// The one place that holds what every choice between a managed CPU primitive of this folder and a formula's
/// device-agnostic tensor version (what CUDA runs, and the reference the primitives are tested against) depends on: the
/// switch that turns the primitives off (<see cref="DisableSwitchName"/>, or <see cref="UseReferencePath"/> for tests)
/// and the size limits of managed spans. Each primitive's <c>Takes</c> predicate adds what it computes (device, dtype,
/// shape) and asks <see cref="Enabled"/>, <see cref="FitsOneSpan"/> and <see cref="FitsOneRow"/>; each formula asks it
/// once per call, and its autograd function saves the answer for backward. Both paths give the same ranks; the float
/// results agree to float32 rounding. Nothing in this folder names a formula: it is the leaf below them.
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

    /// <summary>Whether <paramref name="elements"/> values of <paramref name="elementBytes"/> bytes fit one span.</summary>
    public static bool FitsOneSpan(long elements, long elementBytes) => elements <= MaxSpanBytes / elementBytes;

    /// <summary>Whether one row of <paramref name="elements"/> values fits one block of <see cref="RowBlocks"/> (which reads rows block by block).</summary>
    public static bool FitsOneRow(long elements, long elementBytes) => elements <= RowBlocks.MaxBlockBytes / elementBytes;

    private sealed class Restore(bool previous) : IDisposable
    {
        public void Dispose() => ReferenceInThisFlow.Value = previous;
    }
}
