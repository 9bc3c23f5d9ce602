using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// Row-wise normalized ranks (descending or ascending, index-order or average ties) of float32 and float64 matrices on
/// the CPU. Each row is ranked by whichever of three methods is fastest for its length: counting with vector compares
/// how many values precede each one (short float32 rows), insertion sort (short float64 rows), or a stable
/// least-significant-digit radix sort of the values' order-preserving bit patterns (one byte a pass; a pass whose byte
/// is the same for the whole row is skipped). Rows are shared out by <see cref="RowBlocks"/>. It gives exactly what
/// libtorch's stable sort followed by a scatter of positions gives: ties in index order, -0 equal to +0, and every NaN (any sign or payload) one value above +infinity.
/// </summary>
internal static class RowRanker
{
    /// <summary>Whether this primitive ranks the rows of <paramref name="values"/>: float32 or float64 [R, N] on the CPU.</summary>
    public static bool Takes(Tensor values) =>
        CpuKernels.Enabled && values.device_type == DeviceType.CPU && values.dim() == 2
        && values.dtype is ScalarType.Float32 or ScalarType.Float64 && CpuKernels.FitsOneRow(values.size(1), values.ElementSize);

    /// <summary>float64 rows of at most this many values are sorted by insertion, which beats eight histogram passes there.</summary>
    private const int InsertionSortLimit = 48;

    /// <summary>
    /// float32 rows of at most this many values are ranked by counting (N^2 / 8 vector compares), which beats the radix
    /// sort's four passes and 1024 bucket counters at such lengths (the benchmarks' `suite` ranker cases).
    /// </summary>
    private const int CountingLimit = 96;

    private const int Buckets = 256;

    /// <summary>Normalized ranks (position + 1) / N of each row of <paramref name="values"/> [R, N], in its dtype.</summary>
    public static Tensor Rank(Tensor values, bool descending, RankTies ties)
    {
        using var scope = NewDisposeScope();
        var input = RowBlocks.Contiguous(values);
        var output = empty_like(input);
        int n = (int)input.size(1);
        if (input.dtype == ScalarType.Float64)
        {
            RowBlocks.Run(input.size(0), n, n * sizeof(double), (start, count) =>
                RankRows(RowBlocks.Rows<double>(input, start, count), RowBlocks.Rows<double>(output, start, count), n, descending, ties));
        }
        else
        {
            RowBlocks.Run(input.size(0), n, n * sizeof(float), (start, count) =>
                RankRows(RowBlocks.Rows<float>(input, start, count), RowBlocks.Rows<float>(output, start, count), n, descending, ties));
        }

        return output.MoveToOuterDisposeScope();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RankRows(ReadOnlySpan<float> values, Span<float> ranks, int n, bool descending, RankTies ties)
    {
        using var ranker = new SingleRowRanker(n);
        for (int offset = 0; offset < values.Length; offset += n)
        {
            ranker.Rank(values.Slice(offset, n), ranks.Slice(offset, n), descending, ties);
        }
    }

    /// <summary>
    /// Ranks float32 rows of one length, one at a time, with scratch buffers rented once (one per worker, so a call's
    /// managed allocations do not grow with the rows). Each item packs the 32-bit key above the column index, so one
    /// array is moved per radix pass.
    /// </summary>
    internal sealed class SingleRowRanker : IDisposable
    {
        private readonly ulong[] _buffer;
        private readonly int[] _counts;
        private readonly float[] _table;
        private readonly int _n;
        private readonly bool _counting;

        public SingleRowRanker(int n)
        {
            _n = n;
            _counting = n <= CountingLimit && Vector256.IsHardwareAccelerated;
            _buffer = ArrayPool<ulong>.Shared.Rent(2 * n);
            _counts = ArrayPool<int>.Shared.Rent(_counting ? CountingLimit + Vector256<int>.Count : sizeof(float) * Buckets);
            _table = ArrayPool<float>.Shared.Rent(n);
            RankValues.Fill(_table.AsSpan(0, n));
        }

        /// <summary>Writes the normalized ranks of <paramref name="row"/> (length N) to <paramref name="ranks"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Rank(ReadOnlySpan<float> row, Span<float> ranks, bool descending, RankTies ties)
        {
            if (_counting)
            {
                CountingRanks(row, ranks, descending, ties, _counts, _table.AsSpan(0, _n));
                return;
            }

            var items = _buffer.AsSpan(0, _n);
            Pack(row, items, descending);
            var sorted = RadixSort(items, _buffer.AsSpan(_n, _n), _counts, firstByte: 4);
            WriteRanks(sorted, ranks, ties, _table.AsSpan(0, _n));
        }

        public void Dispose()
        {
            ArrayPool<ulong>.Shared.Return(_buffer);
            ArrayPool<int>.Shared.Return(_counts);
            ArrayPool<float>.Shared.Return(_table);
        }
    }

    /// <summary>float64 rows: 64-bit keys, with the column indices moved alongside.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RankRows(ReadOnlySpan<double> values, Span<double> ranks, int n, bool descending, RankTies ties)
    {
        var keyBuffer = ArrayPool<ulong>.Shared.Rent(2 * n);
        var indexBuffer = ArrayPool<int>.Shared.Rent(2 * n);
        var counts = ArrayPool<int>.Shared.Rent(sizeof(double) * Buckets);
        var tableBuffer = ArrayPool<double>.Shared.Rent(n);
        try
        {
            var table = tableBuffer.AsSpan(0, n);
            RankValues.Fill(table);
            for (int offset = 0; offset < values.Length; offset += n)
            {
                var row = values.Slice(offset, n);
                var keys = keyBuffer.AsSpan(0, 2 * n);
                var index = indexBuffer.AsSpan(0, 2 * n);
                for (int j = 0; j < row.Length; j++)
                {
                    keys[j] = OrderedKey(row[j], descending);
                    index[j] = j;
                }

                int half = SortWithIndex(keys, index, counts, n) ? n : 0;
                var sorted = keys.Slice(half, n);
                var order = index.Slice(half, n);
                var rankRow = ranks.Slice(offset, n);
                for (int runStart = 0, runEnd; runStart < n; runStart = runEnd + 1)
                {
                    runEnd = ties == RankTies.IndexOrder ? runStart : EndOfRun(sorted, runStart, keyShift: 0);
                    double rank = runEnd == runStart ? table[runStart] : RankValues.Mean<double>(runStart, runEnd, n);
                    for (int p = runStart; p <= runEnd; p++)
                    {
                        rankRow[order[p]] = rank;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keyBuffer);
            ArrayPool<int>.Shared.Return(indexBuffer);
            ArrayPool<int>.Shared.Return(counts);
            ArrayPool<double>.Shared.Return(tableBuffer);
        }
    }

    /// <summary>
    /// The columns of a float64 row in ascending order of their values, ties in column order (the order of libtorch's
    /// stable sort; no NaN expected), by the rankers' radix sort. <paramref name="keys"/> and <paramref name="index"/> hold
    /// 2 N each, <paramref name="counts"/> <see cref="OrderCounts"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AscendingOrder(ReadOnlySpan<double> row, Span<int> order, Span<ulong> keys, Span<int> index, int[] counts)
    {
        int n = row.Length;
        for (int j = 0; j < n; j++)
        {
            keys[j] = OrderedKey(row[j], descending: false);
            index[j] = j;
        }

        int half = SortWithIndex(keys, index, counts, n) ? n : 0;
        index.Slice(half, n).CopyTo(order);
    }

    /// <summary>The length of the counts buffer <see cref="AscendingOrder"/> needs.</summary>
    internal const int OrderCounts = sizeof(double) * Buckets;

    /// <summary>
    /// Ranks of a short row by counting: value j's position is #{k : key_k &lt; key_j} + #{k &lt; j : key_k = key_j} (index
    /// order), or its run of ties is first = #{k : key_k &lt; key_j}, last = first + #{k : key_k = key_j} - 1 (average), the
    /// positions the stable sort gives. The keys are compared as signed integers, eight at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CountingRanks(ReadOnlySpan<float> row, Span<float> ranks, bool descending, RankTies ties, int[] keyBuffer, ReadOnlySpan<float> table)
    {
        int n = row.Length;
        int width = Vector256<int>.Count;
        int padded = (n + width - 1) / width * width;
        var keys = keyBuffer.AsSpan(0, padded);
        for (int j = 0; j < n; j++)
        {
            keys[j] = (int)(OrderedKey(row[j], descending) ^ 0x8000_0000u);
        }

        // Padding never counts: no key is greater than int.MaxValue, and padding lies after every real index.
        keys[n..].Fill(int.MaxValue);
        ref int first = ref MemoryMarshal.GetReference(keys);
        for (int j = 0; j < n; j++)
        {
            var key = Vector256.Create(keys[j]);
            if (ties == RankTies.IndexOrder)
            {
                // Chunks wholly before j count keys <= key_j, chunks wholly after it keys < key_j.
                int position = 0;
                int k = 0;
                for (; k + width <= j; k += width)
                {
                    position += BitOperations.PopCount(Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref first, (nuint)k), key).ExtractMostSignificantBits());
                }

                var straddling = Vector256.LoadUnsafe(ref first, (nuint)k);
                uint before = (1u << (j - k)) - 1;
                position += BitOperations.PopCount(
                    (Vector256.LessThanOrEqual(straddling, key).ExtractMostSignificantBits() & before)
                    | (Vector256.LessThan(straddling, key).ExtractMostSignificantBits() & ~before));
                for (k += width; k < padded; k += width)
                {
                    position += BitOperations.PopCount(Vector256.LessThan(Vector256.LoadUnsafe(ref first, (nuint)k), key).ExtractMostSignificantBits());
                }

                ranks[j] = table[position];
                continue;
            }

            int less = 0;
            int equal = 0;
            for (int k = 0; k < padded; k += width)
            {
                var chunk = Vector256.LoadUnsafe(ref first, (nuint)k);
                less += BitOperations.PopCount(Vector256.LessThan(chunk, key).ExtractMostSignificantBits());
                equal += BitOperations.PopCount(Vector256.Equals(chunk, key).ExtractMostSignificantBits());
            }

            ranks[j] = equal == 1 ? table[less] : RankValues.Mean<float>(less, less + equal - 1, n);
        }
    }

    /// <summary>Items in column order: the ordered key of each value above its column index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pack(ReadOnlySpan<float> row, Span<ulong> items, bool descending)
    {
        for (int j = 0; j < row.Length; j++)
        {
            items[j] = ((ulong)OrderedKey(row[j], descending) << 32) | (uint)j;
        }
    }

    /// <summary>Writes (position + 1) / N from <paramref name="table"/> (or the mean of a run of equal keys under <see cref="RankTies.Average"/>) to each item's column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteRanks(ReadOnlySpan<ulong> sorted, Span<float> ranks, RankTies ties, ReadOnlySpan<float> table)
    {
        int n = sorted.Length;
        if (ties == RankTies.IndexOrder)
        {
            for (int p = 0; p < n; p++)
            {
                ranks[(int)(uint)sorted[p]] = table[p];
            }

            return;
        }

        for (int runStart = 0, runEnd; runStart < n; runStart = runEnd + 1)
        {
            runEnd = EndOfRun(sorted, runStart, keyShift: 32);
            float rank = runEnd == runStart ? table[runStart] : RankValues.Mean<float>(runStart, runEnd, n);
            for (int p = runStart; p <= runEnd; p++)
            {
                ranks[(int)(uint)sorted[p]] = rank;
            }
        }
    }

    /// <summary>
    /// Sorts keys[0..n) with their indices, stably and ascending, using keys[n..2n) and index[n..2n) as scratch.
    /// Returns whether the sorted row ended up in the second half.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool SortWithIndex(Span<ulong> keys, Span<int> index, int[] counts, int n)
    {
        if (n <= InsertionSortLimit)
        {
            InsertionSort(keys[..n], index[..n]);
            return false;
        }

        var histogram = Histogram(keys[..n], counts, firstByte: 0);
        bool inSecondHalf = false;
        for (int b = 0; b < sizeof(ulong); b++)
        {
            int from = inSecondHalf ? n : 0;
            int shift = 8 * b;
            var bucketStarts = histogram.Slice(b * Buckets, Buckets);
            if (!BucketStarts(bucketStarts, keys[from], shift, n))
            {
                continue;
            }

            int to = inSecondHalf ? 0 : n;
            var sourceKeys = keys.Slice(from, n);
            var sourceIndex = index.Slice(from, n);
            var targetKeys = keys.Slice(to, n);
            var targetIndex = index.Slice(to, n);
            for (int j = 0; j < sourceKeys.Length; j++)
            {
                ulong key = sourceKeys[j];
                int position = bucketStarts[(int)((key >> shift) & 0xFF)]++;
                targetKeys[position] = key;
                targetIndex[position] = sourceIndex[j];
            }

            inSecondHalf = !inSecondHalf;
        }

        return inSecondHalf;
    }

    /// <summary>Stable ascending radix sort of items by their bytes from <paramref name="firstByte"/> up; returns the span that holds the result.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Span<ulong> RadixSort(Span<ulong> items, Span<ulong> scratch, int[] counts, int firstByte)
    {
        int n = items.Length;
        var histogram = Histogram(items, counts, firstByte);
        for (int b = firstByte; b < sizeof(ulong); b++)
        {
            int shift = 8 * b;
            var bucketStarts = histogram.Slice((b - firstByte) * Buckets, Buckets);
            if (!BucketStarts(bucketStarts, items[0], shift, n))
            {
                continue;
            }

            // Positions come from the counts of these very items, so they stay within [0, n): no bounds checks here.
            ref ulong source = ref MemoryMarshal.GetReference(items);
            ref ulong target = ref MemoryMarshal.GetReference(scratch);
            ref int starts = ref MemoryMarshal.GetReference(bucketStarts);
            for (int j = 0; j < n; j++)
            {
                ulong item = Unsafe.Add(ref source, j);
                ref int position = ref Unsafe.Add(ref starts, (int)((item >> shift) & 0xFF));
                Unsafe.Add(ref target, position++) = item;
            }

            var swap = items;
            items = scratch;
            scratch = swap;
        }

        return items;
    }

    /// <summary>Counts of every byte value, for each byte from <paramref name="firstByte"/> up, in one pass over the items.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Span<int> Histogram(ReadOnlySpan<ulong> items, int[] counts, int firstByte)
    {
        int digits = sizeof(ulong) - firstByte;
        var histogram = counts.AsSpan(0, digits * Buckets);
        histogram.Clear();
        ref int first = ref MemoryMarshal.GetReference(histogram);
        foreach (ulong item in items)
        {
            ulong rest = item >> (8 * firstByte);
            for (int d = 0; d < digits; d++, rest >>= 8)
            {
                Unsafe.Add(ref first, (d * Buckets) + (int)(rest & 0xFF))++;
            }
        }

        return histogram;
    }

    /// <summary>
    /// Turns one byte's counts into bucket start positions. Returns false (nothing to do) when every item has the same
    /// byte, which <paramref name="anyItem"/> shows.
    /// </summary>
    private static bool BucketStarts(Span<int> counts, ulong anyItem, int shift, int n)
    {
        if (counts[(int)((anyItem >> shift) & 0xFF)] == n)
        {
            return false;
        }

        int sum = 0;
        for (int d = 0; d < counts.Length; d++)
        {
            int size = counts[d];
            counts[d] = sum;
            sum += size;
        }

        return true;
    }

    /// <summary>Stable ascending insertion sort of short rows of keys with their indices.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InsertionSort(Span<ulong> keys, Span<int> index)
    {
        for (int i = 1; i < keys.Length; i++)
        {
            ulong key = keys[i];
            int item = index[i];
            int j = i - 1;
            for (; j >= 0 && keys[j] > key; j--)
            {
                keys[j + 1] = keys[j];
                index[j + 1] = index[j];
            }

            keys[j + 1] = key;
            index[j + 1] = item;
        }
    }

    /// <summary>Last position of the run of items whose keys (the bits from <paramref name="keyShift"/> up) equal sorted[start]'s.</summary>
    private static int EndOfRun(ReadOnlySpan<ulong> sorted, int start, int keyShift)
    {
        int end = start;
        while (end + 1 < sorted.Length && sorted[end + 1] >> keyShift == sorted[start] >> keyShift)
        {
            end++;
        }

        return end;
    }

    /// <summary>
    /// An unsigned key that orders like the value (ascending, or descending when asked), with -0 and +0 equal and every
    /// NaN mapped to one key above +infinity (libtorch's sort treats any NaN as the largest value).
    /// </summary>
    private static uint OrderedKey(float value, bool descending)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        bits = bits == 0x8000_0000u ? 0u : float.IsNaN(value) ? 0x7FC0_0000u : bits;
        uint flip = (uint)((int)bits >> 31) | 0x8000_0000u;
        return bits ^ flip ^ (descending ? uint.MaxValue : 0u);
    }

    /// <inheritdoc cref="OrderedKey(float, bool)"/>
    private static ulong OrderedKey(double value, bool descending)
    {
        ulong bits = BitConverter.DoubleToUInt64Bits(value);
        bits = bits == 0x8000_0000_0000_0000ul ? 0ul : double.IsNaN(value) ? 0x7FF8_0000_0000_0000ul : bits;
        ulong flip = (ulong)((long)bits >> 63) | 0x8000_0000_0000_0000ul;
        return bits ^ flip ^ (descending ? ulong.MaxValue : 0ul);
    }
}
