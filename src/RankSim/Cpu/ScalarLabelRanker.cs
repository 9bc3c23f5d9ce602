using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// Ranks of the label distances |y_i - y_j| along every row, for scalar labels on the CPU, without forming or sorting
/// the [M, M] distance matrix. The labels are sorted once; for anchor i the distances to the labels left of it in that
/// order grow as one walks left, and to the labels right of it as one walks right (floating-point subtraction is
/// monotonic), so merging the two walks lists row i in distance order in O(M). Runs of exactly equal distances are then
/// put in index order (or given their mean rank). The result equals the ranks of the sorted distance matrix exactly.
/// </summary>
internal static class ScalarLabelRanker
{
    /// <summary>Whether this primitive ranks the distances of these labels [M, K]: a finite float32 or float64 column on the CPU.</summary>
    public static bool Takes(Tensor labels) =>
        CpuKernels.Enabled && labels.device_type == DeviceType.CPU && labels.size(1) == 1
        && labels.dtype is ScalarType.Float32 or ScalarType.Float64 && FiniteScan.Takes(labels) && FiniteScan.AllFinite(labels)
        && CpuKernels.FitsOneRow(labels.size(0), labels.ElementSize);

    /// <summary>
    /// Whether the largest distance between labels the ranker <see cref="Takes"/> is finite: where it overflows, the walks'
    /// infinite sentinels would tie with real distances, and the labels are ranked from their scaled distance matrix instead.
    /// </summary>
    public static bool HasFiniteRange(Tensor labels)
    {
        using var scope = NewDisposeScope();
        long m = labels.size(0);
        var values = RowBlocks.Contiguous(labels.reshape(m));
        return labels.dtype == ScalarType.Float64
            ? FiniteRange(RowBlocks.Rows<double>(values, 0, m))
            : FiniteRange(RowBlocks.Rows<float>(values, 0, m));
    }

    /// <summary>
    /// Normalized ascending ranks [M, M] of |y_i - y_j| along each row i, in the labels' dtype, for a CPU float32 or
    /// float64 column [M, 1] of finite labels whose range is finite (<see cref="HasFiniteRange"/>).
    /// </summary>
    public static Tensor Rank(Tensor labels, RankTies ties)
    {
        using var scope = NewDisposeScope();
        long m = labels.size(0);
        var (sortedValues, order) = labels.reshape(m).sort(stable: true);
        var output = empty(m, m, dtype: labels.dtype, device: labels.device);
        if (labels.dtype == ScalarType.Float64)
        {
            RowBlocks.Run(m, m, m * sizeof(double), (start, count) =>
                RankRows(RowBlocks.Rows<double>(sortedValues, 0, m), RowBlocks.Rows<long>(order, 0, m), RowBlocks.Rows<double>(output, start, count), (int)start, ties));
        }
        else
        {
            RowBlocks.Run(m, m, m * sizeof(float), (start, count) =>
                RankRows(RowBlocks.Rows<float>(sortedValues, 0, m), RowBlocks.Rows<long>(order, 0, m), RowBlocks.Rows<float>(output, start, count), (int)start, ties));
        }

        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The rows of <see cref="Rank"/> one anchor at a time, as float32, computed where they are read: the [M, M] matrix is
    /// never held. For the labels <see cref="Rank"/> takes; the source keeps its own sorted copy of them.
    /// </summary>
    public static LabelRankRows Rows(Tensor labels, RankTies ties) =>
        labels.dtype == ScalarType.Float64 ? new RowSource<double>(labels, ties) : new RowSource<float>(labels, ties);

    /// <summary>Whether the largest minus the smallest label is finite (so is every distance).</summary>
    private static bool FiniteRange<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T min = values[0], max = values[0];
        foreach (var v in values)
        {
            min = T.Min(min, v);
            max = T.Max(max, v);
        }

        return T.IsFinite(max - min);
    }

    /// <summary>Rows firstAnchor.. of the ranks; <paramref name="sorted"/> are the labels in ascending order, <paramref name="sortedIndices"/> their indices.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RankRows<T>(ReadOnlySpan<T> sorted, ReadOnlySpan<long> sortedIndices, Span<T> ranks, int firstAnchor, RankTies ties)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = sorted.Length;
        using var walker = new Walker<T>(sorted, sortedIndices);
        int anchors = ranks.Length / m;

        // Two anchors at a time: each merge is one long chain of dependent steps, two chains keep the core busy.
        for (int a = 0; a < anchors; a += 2)
        {
            int other = Math.Min(a + 1, anchors - 1);
            walker.RankPair(firstAnchor + a, firstAnchor + other, ranks.Slice(a * m, m), ranks.Slice(other * m, m), ties);
        }
    }

    /// <summary>
    /// The sorted, sentinel-padded labels, each label's place among them, the rank table and the buffers of two walks:
    /// what ranking rows of distances needs, rented once per block of rows.
    /// </summary>
    private sealed class Walker<T> : IDisposable
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T[] _padded;
        private readonly int[] _positionOf;
        private readonly T[] _distances;
        private readonly int[] _members;
        private readonly T[] _table;
        private readonly int[] _order;
        private readonly int _m;

        public Walker(ReadOnlySpan<T> sorted, ReadOnlySpan<long> sortedIndices)
        {
            int m = _m = sorted.Length;
            _padded = ArrayPool<T>.Shared.Rent(m + 2);
            _positionOf = ArrayPool<int>.Shared.Rent(m);
            _distances = ArrayPool<T>.Shared.Rent(2 * m);
            _members = ArrayPool<int>.Shared.Rent(2 * m);
            _table = ArrayPool<T>.Shared.Rent(m);
            _order = ArrayPool<int>.Shared.Rent(m);
            var order = _order.AsSpan(0, m);
            for (int p = 0; p < m; p++)
            {
                order[p] = (int)sortedIndices[p];
            }

            RankValues.Fill(_table.AsSpan(0, m));

            // Infinite sentinels at both ends: a walk that runs out is never taken again, with no branch in the merge.
            var padded = _padded.AsSpan(0, m + 2);
            padded[0] = T.NegativeInfinity;
            sorted.CopyTo(padded[1..]);
            padded[m + 1] = T.PositiveInfinity;
            var positionOf = _positionOf.AsSpan(0, m);
            for (int p = 0; p < m; p++)
            {
                positionOf[order[p]] = p + 1;
            }
        }

        /// <summary>Writes the ranks of anchors A and B (equal for one row) to <paramref name="rowA"/> and <paramref name="rowB"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void RankPair(int anchorA, int anchorB, Span<T> rowA, Span<T> rowB, RankTies ties)
        {
            int m = _m;
            var first = new Walk<T>(_distances.AsSpan(0, m), _members.AsSpan(0, m));
            var second = new Walk<T>(_distances.AsSpan(m, m), _members.AsSpan(m, m));
            var table = _table.AsSpan(0, m);
            MergeWalks(_padded.AsSpan(0, m + 2), _order.AsSpan(0, m), _positionOf.AsSpan(0, m), anchorA, anchorB, first, second);
            WriteRanks(first.Distances, first.Members, rowA, ties, table);
            if (anchorB != anchorA)
            {
                WriteRanks(second.Distances, second.Members, rowB, ties, table);
            }
        }

        public void Dispose()
        {
            ArrayPool<T>.Shared.Return(_padded);
            ArrayPool<int>.Shared.Return(_positionOf);
            ArrayPool<T>.Shared.Return(_distances);
            ArrayPool<int>.Shared.Return(_members);
            ArrayPool<T>.Shared.Return(_table);
            ArrayPool<int>.Shared.Return(_order);
        }
    }

    /// <summary>
    /// <see cref="Rows"/> for labels of dtype T: the labels sorted once; each reader ranks two anchors per merge and keeps
    /// the second's row for the next read (rows are read in order).
    /// </summary>
    private sealed class RowSource<T> : LabelRankRows
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Tensor _sorted;
        private readonly Tensor _order;
        private readonly RankTies _ties;
        private readonly int _m;

        public RowSource(Tensor labels, RankTies ties)
        {
            _m = (int)labels.size(0);
            (_sorted, _order) = labels.reshape(_m).sort(stable: true);
            _ties = ties;
        }

        public override LabelRankReader Open() => new Reader(this);

        public override void Dispose()
        {
            _sorted.Dispose();
            _order.Dispose();
        }

        private sealed class Reader : LabelRankReader
        {
            private readonly Walker<T> _walker;
            private readonly T[] _rows;
            private readonly float[] _converted;
            private readonly RankTies _ties;
            private readonly int _m;
            private int _kept = -1;

            public Reader(RowSource<T> source)
            {
                _m = source._m;
                _ties = source._ties;
                _walker = new Walker<T>(RowBlocks.Rows<T>(source._sorted, 0, _m), RowBlocks.Rows<long>(source._order, 0, _m));
                _rows = ArrayPool<T>.Shared.Rent(2 * _m);
                _converted = typeof(T) == typeof(float) ? [] : ArrayPool<float>.Shared.Rent(2 * _m);
            }

            public override ReadOnlySpan<float> Row(int anchor)
            {
                int m = _m;
                int slot = anchor == _kept ? 1 : 0;
                if (slot == 0)
                {
                    int other = Math.Min(anchor + 1, m - 1);
                    _walker.RankPair(anchor, other, _rows.AsSpan(0, m), _rows.AsSpan(m, m), _ties);
                    _kept = other;
                    if (typeof(T) != typeof(float))
                    {
                        ToFloat(_rows.AsSpan(0, other == anchor ? m : 2 * m), _converted);
                    }
                }

                return typeof(T) == typeof(float)
                    ? MemoryMarshal.Cast<T, float>(_rows.AsSpan(slot * m, m))
                    : _converted.AsSpan(slot * m, m);
            }

            public override void Dispose()
            {
                _walker.Dispose();
                ArrayPool<T>.Shared.Return(_rows);
                if (_converted.Length > 0)
                {
                    ArrayPool<float>.Shared.Return(_converted);
                }
            }

            /// <summary>The ranks rounded to float32 (the conversion of the whole matrix to the similarities' dtype).</summary>
            private static void ToFloat(ReadOnlySpan<T> values, Span<float> output)
            {
                for (int j = 0; j < values.Length; j++)
                {
                    output[j] = float.CreateTruncating(values[j]);
                }
            }
        }
    }

    /// <summary>One anchor's labels in distance order: the distances and the indices of the labels.</summary>
    private readonly ref struct Walk<T>(Span<T> distances, Span<int> members)
    {
        public Span<T> Distances { get; } = distances;

        public Span<int> Members { get; } = members;
    }

    /// <summary>
    /// Lists the labels by distance from each of two anchors (given by index): from the anchor's place in the sorted,
    /// sentinel-padded labels, repeatedly take the nearer of the next label to the left and to the right.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MergeWalks<T>(ReadOnlySpan<T> padded, ReadOnlySpan<int> order, ReadOnlySpan<int> positionOf, int anchorA, int anchorB, Walk<T> a, Walk<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = order.Length;
        var labelA = padded[positionOf[anchorA]];
        var labelB = padded[positionOf[anchorB]];
        a.Distances[0] = T.Abs(labelA - labelA);
        b.Distances[0] = T.Abs(labelB - labelB);
        a.Members[0] = anchorA;
        b.Members[0] = anchorB;
        int leftA = positionOf[anchorA] - 1, rightA = positionOf[anchorA] + 1;
        int leftB = positionOf[anchorB] - 1, rightB = positionOf[anchorB] + 1;
        for (int k = 1; k < m; k++)
        {
            var toLeftA = T.Abs(labelA - padded[leftA]);
            var toRightA = T.Abs(labelA - padded[rightA]);
            var toLeftB = T.Abs(labelB - padded[leftB]);
            var toRightB = T.Abs(labelB - padded[rightB]);
            int takeLeftA = toLeftA <= toRightA ? 1 : 0;
            int takeLeftB = toLeftB <= toRightB ? 1 : 0;
            // The nearer distance without a branch (a taken side is unpredictable): equal sides are one value, and no
            // distance is NaN or -0, where the native minimum would differ from the comparison.
            a.Distances[k] = T.MinNative(toLeftA, toRightA);
            b.Distances[k] = T.MinNative(toLeftB, toRightB);
            a.Members[k] = order[rightA + (takeLeftA * (leftA - rightA)) - 1];
            b.Members[k] = order[rightB + (takeLeftB * (leftB - rightB)) - 1];
            leftA -= takeLeftA;
            rightA += 1 - takeLeftA;
            leftB -= takeLeftB;
            rightB += 1 - takeLeftB;
        }
    }

    /// <summary>
    /// Ranks of one row from its members in distance order: position + 1 over M, with runs of equal distances in index
    /// order (<see cref="RankTies.IndexOrder"/>) or at their mean rank (<see cref="RankTies.Average"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteRanks<T>(ReadOnlySpan<T> distances, Span<int> members, Span<T> row, RankTies ties, ReadOnlySpan<T> table)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = distances.Length;
        for (int runStart = 0, runEnd; runStart < m; runStart = runEnd + 1)
        {
            runEnd = runStart;
            while (runEnd + 1 < m && distances[runEnd + 1] == distances[runStart])
            {
                runEnd++;
            }

            if (runEnd == runStart)
            {
                row[members[runStart]] = table[runStart];
                continue;
            }

            var run = members.Slice(runStart, runEnd - runStart + 1);
            if (ties == RankTies.Average)
            {
                var mean = RankValues.Mean<T>(runStart, runEnd, m);
                foreach (int member in run)
                {
                    row[member] = mean;
                }

                continue;
            }

            // Distinct labels give runs of two (one label each side of the anchor): a compare and swap, not a sort call.
            if (run.Length == 2)
            {
                if (run[0] > run[1])
                {
                    (run[0], run[1]) = (run[1], run[0]);
                }
            }
            else
            {
                run.Sort();
            }

            for (int k = 0; k < run.Length; k++)
            {
                row[run[k]] = table[runStart + k];
            }
        }
    }
}
