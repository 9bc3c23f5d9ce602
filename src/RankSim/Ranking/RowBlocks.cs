using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Shares the rows of a CPU kernel over TorchSharp's intra-op thread count (<c>torch.get_num_threads()</c>), in
/// contiguous blocks; small jobs run on the calling thread. The number of blocks does not grow with the rows, so the
/// managed allocations of a call do not either.
/// </summary>
internal static class RowBlocks
{
    /// <summary>
    /// Blocks per worker. Several, so that a worker whose core is busy (libtorch's OpenMP threads spin for a while after
    /// each parallel operation) takes fewer blocks instead of holding the others up.
    /// </summary>
    private const int BlocksPerWorker = 8;

    /// <summary>
    /// Below this many elements in all (a 512 x 512 matrix), the work stays on the calling thread: on a 2-core machine
    /// whose other core libtorch keeps busy, handing work out costs more than it saves there.
    /// </summary>
    private const long ParallelThreshold = 1L << 18;

    /// <summary>Largest number of bytes of one block (a span is int-indexed).</summary>
    private const long MaxBlockBytes = 1L << 30;

    /// <summary>Runs <paramref name="body"/>(start, count) over blocks covering rows [0, rows) of rows of <paramref name="rowBytes"/> bytes.</summary>
    public static void Run(long rows, long rowElements, long rowBytes, Action<long, long> body)
    {
        if (rows == 0 || rowElements == 0)
        {
            return;
        }

        long rowsPerBlockLimit = Math.Max(1, MaxBlockBytes / Math.Max(1, rowBytes));
        int workers = rows * rowElements < ParallelThreshold ? 1 : (int)Math.Clamp(get_num_threads(), 1, rows);
        int blocks = (int)Math.Max(workers == 1 ? 1 : Math.Min(rows, (long)workers * BlocksPerWorker), (rows + rowsPerBlockLimit - 1) / rowsPerBlockLimit);
        if (blocks == 1)
        {
            body(0, rows);
            return;
        }

        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = workers }, block =>
        {
            long start = rows * block / blocks;
            long count = (rows * (block + 1) / blocks) - start;
            if (count > 0)
            {
                body(start, count);
            }
        });
    }

    /// <summary>The values of rows [start, start + count) of a contiguous CPU tensor, in place.</summary>
    public static Span<T> Rows<T>(Tensor tensor, long start, long count)
        where T : unmanaged
    {
        // The view shares the tensor's storage, which stays alive with the tensor after the view is disposed.
        using var block = tensor.narrow(0, start, count);
        return MemoryMarshal.Cast<byte, T>(block.bytes);
    }
}
