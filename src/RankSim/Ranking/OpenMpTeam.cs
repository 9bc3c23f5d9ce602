using System.Runtime.InteropServices;

namespace RankSim;

/// <summary>
/// Runs a parallel region on the OpenMP thread team of the libtorch build TorchSharp loaded (GNU libgomp's
/// <c>GOMP_parallel</c>, found through libtorch_cpu's own dependencies), so that managed row kernels share libtorch's
/// threads instead of competing with them: after each parallel operation libgomp's idle threads spin for milliseconds,
/// and on a machine with few cores a separate thread pool then runs at a fraction of its speed. Where libtorch does not
/// use libgomp (other platforms or builds), <see cref="IsAvailable"/> is false and callers use the .NET thread pool.
/// </summary>
internal static unsafe class OpenMpTeam
{
    private static readonly delegate* unmanaged<delegate* unmanaged<IntPtr, void>, IntPtr, uint, uint, void> Parallel = Resolve();

    /// <summary>Whether libtorch's libgomp was found.</summary>
    public static bool IsAvailable => Parallel != null;

    /// <summary>
    /// Calls <paramref name="work"/> once on each of <paramref name="threads"/> threads of the team (the calling thread is
    /// one of them) and returns when all have returned. <paramref name="work"/> must not throw.
    /// </summary>
    public static void Run(Action work, int threads)
    {
        var handle = GCHandle.Alloc(work);
        try
        {
            Parallel(&Enter, GCHandle.ToIntPtr(handle), (uint)threads, 0);
        }
        finally
        {
            handle.Free();
        }
    }

    [UnmanagedCallersOnly]
    private static void Enter(IntPtr work) => ((Action)GCHandle.FromIntPtr(work).Target!)();

    private static delegate* unmanaged<delegate* unmanaged<IntPtr, void>, IntPtr, uint, uint, void> Resolve()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libtorch_cpu.so", out var torch))
        {
            return null;
        }

        // dlsym on libtorch_cpu's handle searches its dependencies, where its libgomp is.
        return NativeLibrary.TryGetExport(torch, "GOMP_parallel", out var parallel)
            ? (delegate* unmanaged<delegate* unmanaged<IntPtr, void>, IntPtr, uint, uint, void>)parallel
            : null;
    }
}
