using RankSim.Cpu;

namespace RankSim;

/// <summary>
/// How RankSim computes on the CPU: for checking which path runs, or for running on a CPU exactly what a CUDA user runs.
/// By default the ranks, label ranks, blackbox gradient and the row-wise parts of the similarity run in managed row kernels (same results as the device-agnostic tensor path that other devices run, ranks
/// identical, several times faster). Setting the <see cref="AppContext"/> switch <c>RankSim.DisableCpuKernels</c> to
/// true before the first RankSim call makes the CPU run the device-agnostic path, exactly what a CUDA user runs.
/// </summary>
public static class CpuBackend
{
    /// <summary>The name of the <see cref="AppContext"/> switch that turns the CPU kernels off: <c>RankSim.DisableCpuKernels</c>.</summary>
    public const string DisableKernelsSwitch = CpuKernels.DisableSwitchName;

    /// <summary>Whether the CPU kernels are in use (true unless <see cref="DisableKernelsSwitch"/> is set).</summary>
    public static bool KernelsEnabled => !CpuKernels.DisabledByAppContextSwitch;

    /// <summary>
    /// Which threads the CPU kernels run on: libtorch's own OpenMP team where libtorch uses GNU libgomp (Linux builds),
    /// else the .NET thread pool; <see cref="CpuThreading.Undetermined"/> before TorchSharp has loaded libtorch (this
    /// property never loads a native library itself).
    /// </summary>
    internal static CpuThreading Threading => OpenMpTeam.Threading;
}

/// <summary>The threads RankSim's CPU kernels run on (<see cref="CpuBackend.Threading"/>).</summary>
internal enum CpuThreading
{
    /// <summary>TorchSharp has not loaded libtorch yet; asked again later.</summary>
    Undetermined,

    /// <summary>libtorch's own OpenMP (GNU libgomp) thread team, shared with libtorch's operations.</summary>
    LibTorchOpenMp,

    /// <summary>The calling thread plus .NET thread-pool helpers.</summary>
    ThreadPool,
}
