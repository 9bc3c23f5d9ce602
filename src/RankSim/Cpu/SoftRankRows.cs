using System.Buffers;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// Soft ranks (projection of -s / epsilon onto the permutahedron of (N, ..., 1), divided by N) and their gradient on the
/// CPU, row by row: the isotonic regression of each row is found by pool-adjacent-violators (a radix sort, then O(N)
/// pooling). The gaps between sorted neighbours are capped at a given value before they are summed; block values and
/// block means come from running sums in float64. Rows are read and written in their working dtype (float32 or
/// float64), and only the order and each sorted position's block end are kept for the gradient (int32).
/// </summary>
internal static class SoftRankRows
{
    /// <summary>
    /// Whether this primitive computes the soft ranks of scores [N] or [R, N]: on the CPU, a row within one block (any
    /// floating dtype; the rows are made float32 or float64 first).
    /// </summary>
    public static bool Takes(Tensor scores) =>
        CpuKernels.Enabled && scores.device_type == DeviceType.CPU && CpuKernels.FitsOneRow(scores.size(-1), sizeof(double));

    /// <summary>
    /// Soft ranks of rows [R, N] (float32 or float64, contiguous, CPU) in their dtype, with the gaps between sorted
    /// neighbours, (s_(i+1) - s_(i)) / epsilon, capped at <paramref name="gapCap"/>; and, for <see cref="Gradient"/>, the
    /// ascending order and each sorted position's block end (int32 [R, N]).
    /// </summary>
    public static (Tensor SoftRanks, Tensor Order, Tensor BlockEnds) Forward(Tensor rows, double regularization, double gapCap, double rankScale)
    {
        long r = rows.size(0);
        int n = (int)rows.size(1);
        var ranks = empty_like(rows);
        var order = empty(r, n, dtype: ScalarType.Int32);
        var last = empty(r, n, dtype: ScalarType.Int32);
        RowBlocks.Run(r, n, (long)n * sizeof(double), (start, count) =>
        {
            var sortKeys = ArrayPool<ulong>.Shared.Rent(2 * n);
            var sortIndex = ArrayPool<int>.Shared.Rent(2 * n);
            var counts = ArrayPool<int>.Shared.Rent(RowRanker.OrderCounts);
            var buffer = ArrayPool<double>.Shared.Rent((4 * n) + 1);
            try
            {
                var orderRows = RowBlocks.Rows<int>(order, start, count);
                var lastRows = RowBlocks.Rows<int>(last, start, count);
                var input = new WorkingRows(rows, start, count);
                var output = new WorkingRows(ranks, start, count);
                var scores = buffer.AsSpan(0, n);
                var rowRanks = buffer.AsSpan(n, n);
                var work = buffer.AsSpan(2 * n, (2 * n) + 1);
                for (int row = 0, offset = 0; row < count; row++, offset += n)
                {
                    input.Read(offset, scores);
                    ForwardRow(scores, regularization, gapCap, rankScale, sortKeys.AsSpan(0, 2 * n), sortIndex.AsSpan(0, 2 * n), counts, work, rowRanks, lastRows.Slice(offset, n));
                    sortIndex.AsSpan(0, n).CopyTo(orderRows.Slice(offset, n));
                    output.Write(rowRanks, offset, saturate: false);
                }
            }
            finally
            {
                ArrayPool<ulong>.Shared.Return(sortKeys);
                ArrayPool<int>.Shared.Return(sortIndex);
                ArrayPool<int>.Shared.Return(counts);
                ArrayPool<double>.Shared.Return(buffer);
            }
        });
        return (ranks, order, last);
    }

    /// <summary>
    /// One row: its columns in stable ascending order into <paramref name="sortIndex"/>[..N], z from the capped gaps,
    /// y = z - w, pool-adjacent-violators, the ranks (float64) and each sorted position's block end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRow(
        ReadOnlySpan<double> scores, double regularization, double gapCap, double rankScale, Span<ulong> sortKeys, Span<int> sortIndex, int[] counts, Span<double> work,
        Span<double> ranks, Span<int> last)
    {
        int n = scores.Length;
        var columns = sortIndex[..n];
        RowRanker.AscendingOrder(scores, columns, sortKeys, sortIndex, counts);

        // z_(i) from the capped gaps, accumulated in order as libtorch's cumsum does; y_i = z_(i) - (N - i);
        // sums[i] = y_0 + ... + y_(i-1), likewise.
        double inverse = 1.0 / regularization;
        double cap = gapCap;
        var z = work.Slice(n + 1, n);
        double gapSum = 0;
        z[0] = 0;
        for (int i = 1; i < n; i++)
        {
            // Equal neighbours (equal infinities too) are 0 apart.
            double lower = scores[columns[i - 1]], upper = scores[columns[i]];
            gapSum += upper == lower ? 0 : Math.Min((upper - lower) * inverse, cap);
            z[i] = -gapSum;
        }

        var sums = work[..(n + 1)];
        sums[0] = 0;
        for (int i = 0; i < n; i++)
        {
            sums[i + 1] = sums[i] + (z[i] - (n - i));
        }

        // Pool adjacent violators for a non-increasing fit: the blocks' first positions are kept as a stack (in `last`,
        // reused), a block's value the mean of y over it; a block whose mean exceeds its predecessor's merges into it
        // (the stack loses its first position).
        var stack = last;
        int blocks = 0;
        for (int i = 0; i < n; i++)
        {
            stack[blocks] = i;
            blocks++;
            while (blocks > 1 && Mean(sums, stack[blocks - 2], stack[blocks - 1] - 1) < Mean(sums, stack[blocks - 1], i))
            {
                blocks--;
            }
        }

        // From the right (each block ends where the next begins), so the stack is read before `last` overwrites it.
        int end = n - 1;
        double scale = rankScale / n;
        for (int block = blocks - 1; block >= 0; block--)
        {
            int start = stack[block];
            double mean = Mean(sums, start, end);
            for (int i = end; i >= start; i--)
            {
                ranks[columns[i]] = (z[i] - mean) * scale;
                last[i] = end;
            }

            end = start - 1;
        }
    }

    /// <summary>mean(y_a..y_b) = (sums[b + 1] - sums[a]) / (b - a + 1), the tensor formula's A[a, b].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Mean(ReadOnlySpan<double> sums, int a, int b) => (sums[b + 1] - sums[a]) / (b - a + 1);

    /// <summary>
    /// dL/ds for upstream rows [R, N] (working dtype, original order, contiguous) and the order and block ends of
    /// <see cref="Forward"/>: for each element, (u - the mean of u over its block) / N, times -rankScale / epsilon. A
    /// block's mean is its own sum (from 0, in sorted order, as the tensor formula's scatter-add) over its length.
    /// </summary>
    public static Tensor Gradient(Tensor upstream, Tensor order, Tensor last, double regularization, double rankScale)
    {
        long r = upstream.size(0);
        int n = (int)upstream.size(1);
        double factor = -rankScale / (n * regularization);
        var gradient = empty_like(upstream);
        RowBlocks.Run(r, n, (long)n * sizeof(double), (start, count) =>
        {
            var buffer = ArrayPool<double>.Shared.Rent(2 * n);
            try
            {
                var orderRows = RowBlocks.Rows<int>(order, start, count);
                var lastRows = RowBlocks.Rows<int>(last, start, count);
                var input = new WorkingRows(upstream, start, count);
                var result = new WorkingRows(gradient, start, count);
                var u = buffer.AsSpan(0, n);
                var output = buffer.AsSpan(n, n);
                for (int row = 0, offset = 0; row < count; row++, offset += n)
                {
                    input.Read(offset, u);

                    var rowOrder = orderRows.Slice(offset, n);
                    var rowLast = lastRows.Slice(offset, n);

                    // Blocks are runs of sorted positions with the same end; a block's first position is where its run starts.
                    for (int first = 0, b; first < n; first = b + 1)
                    {
                        b = rowLast[first];
                        double sum = 0;
                        for (int i = first; i <= b; i++)
                        {
                            sum += u[rowOrder[i]];
                        }

                        double blockMean = sum / (b - first + 1);
                        for (int i = first; i <= b; i++)
                        {
                            output[rowOrder[i]] = (u[rowOrder[i]] - blockMean) * factor;
                        }
                    }

                    result.Write(output, offset, saturate: true);
                }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(buffer);
            }
        });
        return gradient;
    }

    /// <summary>
    /// Rows [start, start + count) of a contiguous float32 or float64 CPU tensor, read as float64 (exact) and written from
    /// float64 (rounded to float32 as libtorch converts, after clamping to float32's finite range when asked).
    /// </summary>
    private readonly ref struct WorkingRows(Tensor tensor, long start, long count)
    {
        private readonly bool _isSingle = tensor.dtype == ScalarType.Float32;
        private readonly Span<float> _single = tensor.dtype == ScalarType.Float32 ? RowBlocks.Rows<float>(tensor, start, count) : default;
        private readonly Span<double> _double = tensor.dtype == ScalarType.Float32 ? default : RowBlocks.Rows<double>(tensor, start, count);

        /// <summary>The row at element <paramref name="offset"/> into <paramref name="target"/> (its length).</summary>
        public void Read(int offset, Span<double> target)
        {
            if (!_isSingle)
            {
                _double.Slice(offset, target.Length).CopyTo(target);
                return;
            }

            var source = _single.Slice(offset, target.Length);
            for (int j = 0; j < target.Length; j++)
            {
                target[j] = source[j];
            }
        }

        /// <summary><paramref name="source"/> into the row at element <paramref name="offset"/>.</summary>
        public void Write(ReadOnlySpan<double> source, int offset, bool saturate)
        {
            if (!_isSingle)
            {
                source.CopyTo(_double.Slice(offset, source.Length));
                return;
            }

            var target = _single.Slice(offset, source.Length);
            for (int j = 0; j < source.Length; j++)
            {
                target[j] = (float)(saturate ? Math.Clamp(source[j], -float.MaxValue, float.MaxValue) : source[j]);
            }
        }
    }
}
