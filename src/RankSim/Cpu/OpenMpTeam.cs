using System.Runtime.InteropServices;

namespace RankSim.Cpu;

/// <summary>
/// Runs a parallel region on the OpenMP thread team of the libtorch build TorchSharp loaded (GNU libgomp's
/// <c>GOMP_parallel</c>, found through libtorch_cpu's own dependencies), so that managed row kernels share libtorch's
/// threads instead of competing with them: after each parallel operation libgomp's idle threads spin for milliseconds,
/// and on a machine with few cores a separate thread pool then runs at a fraction of its speed.
/// </summary>
/// <remarks>
/// This class never loads a native library. It looks only for a <c>libtorch_cpu.so</c> that is already loaded
/// (<c>dlopen</c> with <c>RTLD_NOLOAD</c>): TorchSharp's own. Until TorchSharp has loaded libtorch the answer is
/// <see cref="CpuThreading.Undetermined"/> and is asked again at the next call; once libtorch is loaded it is final:
/// the team, or (libtorch without libgomp: other platforms or builds) the .NET thread pool.
/// </remarks>
internal static unsafe class OpenMpTeam
{
    private const int RtldLazy = 0x1;
    private const int RtldNoLoad = 0x4;

    private static readonly Lock Gate = new();
    private static delegate* unmanaged<delegate* unmanaged<IntPtr, void>, IntPtr, uint, uint, void> _parallel;
    private static volatile CpuThreading _threading = CpuThreading.Undetermined;

    /// <summary>Which threads the kernels run on; <see cref="CpuThreading.Undetermined"/> until TorchSharp has loaded libtorch.</summary>
    public static CpuThreading Threading
    {
        get
        {
            if (_threading == CpuThreading.Undetermined)
            {
                Resolve();
            }

            return _threading;
        }
    }

    /// <summary>Whether libtorch's libgomp team is in use.</summary>
    public static bool IsAvailable => Threading == CpuThreading.LibTorchOpenMp;

    /// <summary>
    /// Calls <paramref name="work"/> once on each of <paramref name="threads"/> threads of the team (the calling thread is
    /// one of them) and returns when all have returned. <paramref name="work"/> must not throw. Only when <see cref="IsAvailable"/>.
    /// </summary>
    public static void Run(Action work, int threads)
    {
        var handle = GCHandle.Alloc(work);
        try
        {
            _parallel(&Enter, GCHandle.ToIntPtr(handle), (uint)threads, 0);
        }
        finally
        {
            handle.Free();
        }
    }

    [UnmanagedCallersOnly]
    private static void Enter(IntPtr work) => ((Action)GCHandle.FromIntPtr(work).Target!)();

    private static void Resolve()
    {
        lock (Gate)
        {
            if (_threading != CpuThreading.Undetermined)
            {
                return;
            }

            if (!OperatingSystem.IsLinux())
            {
                _threading = CpuThreading.ThreadPool;
                return;
            }

            if (!TryFindLoaded("libtorch_cpu.so", out var torch))
            {
                // The C library's dlopen is not reachable (not glibc): the thread pool, for good.
                _threading = CpuThreading.ThreadPool;
                return;
            }

            if (torch == IntPtr.Zero)
            {
                // Not loaded yet: ask again next time, load nothing.
                return;
            }

            // dlsym on libtorch_cpu's handle searches its dependencies, where its libgomp is.
            if (NativeLibrary.TryGetExport(torch, "GOMP_parallel", out var parallel))
            {
                _parallel = (delegate* unmanaged<delegate* unmanaged<IntPtr, void>, IntPtr, uint, uint, void>)parallel;
                _threading = CpuThreading.LibTorchOpenMp;
            }
            else
            {
                _threading = CpuThreading.ThreadPool;
            }
        }
    }

    /// <summary>
    /// The handle of <paramref name="name"/> if the process has loaded it already, else zero; never loads it. False when
    /// neither glibc's libc.so.6 nor libdl.so.2 provides dlopen.
    /// </summary>
    private static bool TryFindLoaded(string name, out IntPtr handle)
    {
        try
        {
            handle = DlopenLibc(name, RtldLazy | RtldNoLoad);
            return true;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            try
            {
                handle = DlopenLibdl(name, RtldLazy | RtldNoLoad);
                return true;
            }
            catch (Exception inner) when (inner is DllNotFoundException or EntryPointNotFoundException)
            {
                handle = IntPtr.Zero;
                return false;
            }
        }
    }

    [DllImport("libc.so.6", EntryPoint = "dlopen")]
    private static extern IntPtr DlopenLibc([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    [DllImport("libdl.so.2", EntryPoint = "dlopen")]
    private static extern IntPtr DlopenLibdl([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);
}
