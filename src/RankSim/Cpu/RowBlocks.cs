using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// Shares the rows of a CPU kernel over TorchSharp's intra-op thread count (<c>torch.get_num_threads()</c>), in
/// contiguous blocks handed out one at a time; small jobs run on the calling thread. The threads are libtorch's own
/// OpenMP team where it can be reached (<see cref="OpenMpTeam"/>), else the calling thread plus thread-pool helpers.
/// The number of blocks does not grow with the rows, so the managed allocations of a call do not either.
/// </summary>
internal static class RowBlocks
{
    /// <summary>
    /// Blocks per worker. Several, so that a worker whose core is busy (with the thread pool, libtorch's OpenMP threads
    /// spin for a while after each parallel operation) takes fewer blocks instead of holding the others up.
    /// </summary>
    private const int BlocksPerWorker = 8;

    /// <summary>
    /// Below this many elements in all (a 512 x 512 matrix), the work stays on the calling thread: on a 2-core machine
    /// whose other core libtorch keeps busy, handing work out costs more than it saves there.
    /// </summary>
    private const long ParallelThreshold = 1L << 18;

    /// <summary>Largest number of bytes of one block (a span is int-indexed); a row must fit one block.</summary>
    internal const long MaxBlockBytes = 1L << 30;

    /// <summary>Runs <paramref name="body"/>(start, count) over blocks covering rows [0, rows) of rows of <paramref name="rowBytes"/> bytes.</summary>
    public static void Run(long rows, long rowElements, long rowBytes, Action<long, long> body) =>
        Run(rows, rowElements, rowBytes, body, OpenMpTeam.IsAvailable);

    /// <summary>As <see cref="Run(long, long, long, Action{long, long})"/>, on the OpenMP team or (false) the thread pool.</summary>
    internal static void Run(long rows, long rowElements, long rowBytes, Action<long, long> body, bool onOpenMpTeam)
    {
        if (rows == 0 || rowElements == 0)
        {
            return;
        }

        long rowsPerBlockLimit = Math.Max(1, MaxBlockBytes / Math.Max(1, rowBytes));
        int workers = rows * rowElements < ParallelThreshold ? 1 : (int)Math.Clamp(get_num_threads(), 1, rows);
        int blocks = (int)Math.Max(workers == 1 ? 1 : Math.Min(rows, (long)workers * BlocksPerWorker), (rows + rowsPerBlockLimit - 1) / rowsPerBlockLimit);
        if (workers == 1)
        {
            for (int block = 0; block < blocks; block++)
            {
                RunBlock(rows, blocks, block, body);
            }

            return;
        }

        // Every thread of the team, or the calling thread and helpers queued to the thread pool, takes blocks until none
        // are left. No Parallel.For: its replica tasks re-queue themselves during long calls, so its allocations grow.
        var job = new SharedJob(rows, blocks, body);
        if (onOpenMpTeam)
        {
            OpenMpTeam.Run(job.TakeBlocks, workers);
            job.WaitUntilDone();
            return;
        }

        for (int helper = 1; helper < workers; helper++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static shared => shared.TakeBlocks(), job, preferLocal: false);
        }

        job.TakeBlocks();
        job.WaitUntilDone();
    }

    private static void RunBlock(long rows, int blocks, int block, Action<long, long> body)
    {
        long start = rows * block / blocks;
        long count = (rows * (block + 1) / blocks) - start;
        if (count > 0)
        {
            body(start, count);
        }
    }

    /// <summary>Blocks handed out one at a time by an atomic counter; done when every block has run.</summary>
    private sealed class SharedJob
    {
        private readonly ManualResetEventSlim _done = new(false);
        private readonly long _rows;
        private readonly int _blocks;
        private readonly Action<long, long> _body;
        private int _next = -1;
        private int _remaining;
        private ExceptionDispatchInfo? _failure;

        public SharedJob(long rows, int blocks, Action<long, long> body)
        {
            _rows = rows;
            _blocks = blocks;
            _body = body;
            _remaining = blocks;
        }

        public void TakeBlocks()
        {
            int block;
            while ((block = Interlocked.Increment(ref _next)) < _blocks)
            {
                try
                {
                    RunBlock(_rows, _blocks, block, _body);
                }
                catch (Exception exception)
                {
                    Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(exception), null);
                }

                if (Interlocked.Decrement(ref _remaining) == 0)
                {
                    _done.Set();
                }
            }
        }

        /// <summary>Waits for the blocks still running on helpers (a helper that starts later finds none left), then rethrows a failure.</summary>
        public void WaitUntilDone()
        {
            _done.Wait();
            _done.Dispose();
            _failure?.Throw();
        }
    }

    /// <summary>
    /// <paramref name="tensor"/> itself when it is contiguous, else a contiguous copy. (libtorch's <c>contiguous()</c>
    /// returns a new handle even when nothing is copied, which costs several microseconds through TorchSharp.)
    /// </summary>
    public static Tensor Contiguous(Tensor tensor) => tensor.is_contiguous() ? tensor : tensor.contiguous();

    /// <summary>
    /// The values of rows [start, start + count) of a contiguous CPU tensor, in place: a slice of the whole tensor's span
    /// when that fits one span (no libtorch call), else of a view of those rows.
    /// </summary>
    public static Span<T> Rows<T>(Tensor tensor, long start, long count)
        where T : unmanaged
    {
        long elements = tensor.numel();
        if (count == 0 || elements == 0)
        {
            return default;
        }

        if (elements * tensor.ElementSize <= int.MaxValue)
        {
            long rowElements = elements / tensor.size(0);
            return MemoryMarshal.Cast<byte, T>(tensor.bytes).Slice((int)(start * rowElements), (int)(count * rowElements));
        }

        // The view shares the tensor's storage, which stays alive with the tensor after the view is disposed.
        using var block = tensor.narrow(0, start, count);
        return MemoryMarshal.Cast<byte, T>(block.bytes);
    }
}
