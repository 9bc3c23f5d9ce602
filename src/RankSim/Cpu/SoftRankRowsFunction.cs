using System.Buffers;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// <see cref="SoftRank.SoftRankFunction"/> on the CPU: the same soft ranks and gradient, with the isotonic regression of
/// each row found by pool-adjacent-violators (O(N log N) per row for the sort, O(N) for the pooling) instead of the
/// O(N^2) min-max formula. Block values and block means are computed from the same running sums, in the same float64
/// operations, as the tensor formula (<see cref="SoftRank.Forward"/>, <see cref="SoftRank.Gradient"/>).
/// </summary>
internal sealed class SoftRankRowsFunction : autograd.SingleTensorFunction<SoftRankRowsFunction>
{
    public override string Name => nameof(SoftRankRowsFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => SoftRank.ForwardShared(ctx, vars, Forward);

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        SoftRank.BackwardShared(ctx, grad_output, Name, Gradient);

    /// <summary>Soft ranks, order and blocks of float64 rows [R, N] (contiguous, CPU), as <see cref="SoftRank.Forward"/> returns them.</summary>
    private static (Tensor Ranks, Tensor Order, Tensor First, Tensor Last) Forward(Tensor rows, double regularization)
    {
        long r = rows.shape[0];
        int n = (int)rows.shape[1];
        var ranks = empty_like(rows);
        var order = empty(r, n, dtype: ScalarType.Int64);
        var first = empty(r, n, dtype: ScalarType.Int64);
        var last = empty(r, n, dtype: ScalarType.Int64);
        RowBlocks.Run(r, n, (long)n * sizeof(double), (start, count) =>
        {
            var sortKeys = ArrayPool<ulong>.Shared.Rent(2 * n);
            var sortIndex = ArrayPool<int>.Shared.Rent(2 * n);
            var counts = ArrayPool<int>.Shared.Rent(RowRanker.OrderCounts);
            var buffer = ArrayPool<double>.Shared.Rent((2 * n) + 1);
            try
            {
                var scores = RowBlocks.Rows<double>(rows, start, count);
                var rankRows = RowBlocks.Rows<double>(ranks, start, count);
                var orderRows = RowBlocks.Rows<long>(order, start, count);
                var firstRows = RowBlocks.Rows<long>(first, start, count);
                var lastRows = RowBlocks.Rows<long>(last, start, count);
                for (int offset = 0; offset < scores.Length; offset += n)
                {
                    ForwardRow(
                        scores.Slice(offset, n), regularization, new Sorter(sortKeys.AsSpan(0, 2 * n), sortIndex.AsSpan(0, 2 * n), counts), buffer.AsSpan(0, (2 * n) + 1),
                        rankRows.Slice(offset, n), orderRows.Slice(offset, n), firstRows.Slice(offset, n), lastRows.Slice(offset, n));
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
        return (ranks, order, first, last);
    }

    /// <summary>One row: a stable ascending sort of s, z from the capped gaps, y = z - w, pool-adjacent-violators, ranks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRow(
        ReadOnlySpan<double> scores, double regularization, Sorter sorter, Span<double> buffer,
        Span<double> ranks, Span<long> order, Span<long> first, Span<long> last)
    {
        int n = scores.Length;
        var columns = sorter.Index[..n];
        RowRanker.AscendingOrder(scores, columns, sorter.Keys, sorter.Index, sorter.Counts);

        // z_(i) from the capped gaps (SoftRank.GapCap), accumulated in order as libtorch's cumsum does; y_i = z_(i) - (N - i);
        // sums[i] = y_0 + ... + y_(i-1), likewise.
        double inverse = 1.0 / regularization;
        double cap = SoftRank.GapCap(n);
        var z = buffer.Slice(n + 1, n);
        double gapSum = 0;
        z[0] = 0;
        for (int i = 1; i < n; i++)
        {
            gapSum += Math.Min((scores[columns[i]] - scores[columns[i - 1]]) * inverse, cap);
            z[i] = -gapSum;
        }

        var sums = buffer.Slice(0, n + 1);
        sums[0] = 0;
        for (int i = 0; i < n; i++)
        {
            order[i] = columns[i];
            sums[i + 1] = sums[i] + (z[i] - (n - i));
        }

        // Pool adjacent violators for a non-increasing fit: blocks are kept as a stack of first positions (in `first`,
        // reused), a block's value the mean of y over it; a block whose mean exceeds its predecessor's merges into it (the stack loses its first position).
        int blocks = 0;
        for (int i = 0; i < n; i++)
        {
            first[blocks] = i;
            blocks++;
            while (blocks > 1 && Mean(sums, (int)first[blocks - 2], (int)first[blocks - 1] - 1) < Mean(sums, (int)first[blocks - 1], i))
            {
                blocks--;
            }
        }

        // Expand the stack from the right (each block's last position is the next block's first - 1), then the ranks.
        int end = n - 1;
        double scale = 1.0 / n;
        for (int block = blocks - 1; block >= 0; block--)
        {
            int start = (int)first[block];
            double mean = Mean(sums, start, end);
            for (int i = start; i <= end; i++)
            {
                ranks[columns[i]] = (z[i] - mean) * scale;
                last[i] = end;
            }

            end = start - 1;
        }

        for (int i = 0; i < n; i++)
        {
            first[i] = i == 0 || last[i - 1] != last[i] ? i : first[i - 1];
        }
    }

    /// <summary>mean(y_a..y_b) = (sums[b + 1] - sums[a]) / (b - a + 1), the tensor formula's A[a, b].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Mean(ReadOnlySpan<double> sums, int a, int b) => (sums[b + 1] - sums[a]) / (b - a + 1);

    /// <summary>dL/ds for float64 upstream rows [R, N] (original order) and the saved order and blocks, as <see cref="SoftRank.Gradient"/>.</summary>
    private static Tensor Gradient(Tensor upstream, Tensor order, Tensor first, Tensor last, double regularization)
    {
        long r = upstream.shape[0];
        int n = (int)upstream.shape[1];
        double factor = -1.0 / (n * regularization);
        var gradient = empty_like(upstream);
        RowBlocks.Run(r, n, (long)n * sizeof(double), (start, count) =>
        {
            var sums = ArrayPool<double>.Shared.Rent(n + 1);
            try
            {
                var u = RowBlocks.Rows<double>(upstream, start, count);
                var orderRows = RowBlocks.Rows<long>(order, start, count);
                var firstRows = RowBlocks.Rows<long>(first, start, count);
                var lastRows = RowBlocks.Rows<long>(last, start, count);
                var outRows = RowBlocks.Rows<double>(gradient, start, count);
                for (int offset = 0; offset < u.Length; offset += n)
                {
                    var row = u.Slice(offset, n);
                    var rowOrder = orderRows.Slice(offset, n);
                    var output = outRows.Slice(offset, n);
                    sums[0] = 0;
                    for (int i = 0; i < n; i++)
                    {
                        sums[i + 1] = sums[i] + row[(int)rowOrder[i]];
                    }

                    for (int i = 0; i < n; i++)
                    {
                        int a = (int)firstRows[offset + i];
                        int b = (int)lastRows[offset + i];
                        double blockMean = (sums[b + 1] - sums[a]) / (b - a + 1);
                        output[(int)rowOrder[i]] = (row[(int)rowOrder[i]] - blockMean) * factor;
                    }
                }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(sums);
            }
        });
        return gradient;
    }

    /// <summary>The radix sort's buffers: keys and indices of 2 N, counts of <see cref="RowRanker.OrderCounts"/>.</summary>
    private readonly ref struct Sorter(Span<ulong> keys, Span<int> index, int[] counts)
    {
        public readonly Span<ulong> Keys = keys;
        public readonly Span<int> Index = index;
        public readonly int[] Counts = counts;
    }
}
