using System.Buffers;
using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Ranks of the label distances |y_i - y_j| along every row, for scalar labels on the CPU, without forming or sorting
/// the [M, M] distance matrix. The labels are sorted once; for anchor i the distances to the labels left of it in that
/// order grow as one walks left, and to the labels right of it as one walks right (floating-point subtraction is
/// monotonic), so merging the two walks lists row i in distance order in O(M). Runs of exactly equal distances are then
/// put in index order (or given their mean rank). The result equals
/// <c>Ranks.Ascending(LabelSimilarity.Distances(labels), ties)</c> exactly.
/// </summary>
internal static class ScalarLabelRanker
{
    /// <summary>
    /// Whether <paramref name="labels"/> is a CPU float32 or float64 column [M, 1] of finite values, which this kernel
    /// ranks (non-finite labels, possible when the finite check is switched off, take the generic path).
    /// </summary>
    public static bool Supports(Tensor labels) =>
        labels.device_type == DeviceType.CPU && labels.dim() == 2 && labels.shape[1] == 1
        && labels.dtype is ScalarType.Float32 or ScalarType.Float64 && FiniteScan.AllFinite(labels) is true;

    /// <summary>Normalised ascending ranks [M, M] of |y_i - y_j| along each row i, in the labels' dtype.</summary>
    public static Tensor Rank(Tensor labels, RankTies ties)
    {
        using var scope = NewDisposeScope();
        long m = labels.shape[0];
        var (sortedValues, order) = labels.reshape(m).sort(stable: true);
        var output = empty(m, m, dtype: labels.dtype, device: labels.device);
        var sorted = sortedValues.contiguous();
        var indices = order.to(ScalarType.Int32).contiguous();
        if (labels.dtype == ScalarType.Float64)
        {
            RowBlocks.Run(m, m, m * sizeof(double), (start, count) =>
                RankRows(RowBlocks.Rows<double>(sorted, 0, m), RowBlocks.Rows<int>(indices, 0, m), RowBlocks.Rows<double>(output, start, count), (int)start, ties));
        }
        else
        {
            RowBlocks.Run(m, m, m * sizeof(float), (start, count) =>
                RankRows(RowBlocks.Rows<float>(sorted, 0, m), RowBlocks.Rows<int>(indices, 0, m), RowBlocks.Rows<float>(output, start, count), (int)start, ties));
        }

        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Rows firstAnchor.. of the ranks; <paramref name="sorted"/> are the labels in ascending order, <paramref name="order"/> their indices.</summary>
    private static void RankRows<T>(ReadOnlySpan<T> sorted, ReadOnlySpan<int> order, Span<T> ranks, int firstAnchor, RankTies ties)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = sorted.Length;
        var paddedBuffer = ArrayPool<T>.Shared.Rent(m + 2);
        var positionBuffer = ArrayPool<int>.Shared.Rent(m);
        var distanceBuffer = ArrayPool<T>.Shared.Rent(m);
        var memberBuffer = ArrayPool<int>.Shared.Rent(m);
        try
        {
            // Infinite sentinels at both ends: a walk that runs out is never taken again, with no branch in the merge.
            var padded = paddedBuffer.AsSpan(0, m + 2);
            padded[0] = T.NegativeInfinity;
            sorted.CopyTo(padded[1..]);
            padded[m + 1] = T.PositiveInfinity;
            var positionOf = positionBuffer.AsSpan(0, m);
            for (int p = 0; p < m; p++)
            {
                positionOf[order[p]] = p + 1;
            }

            var distances = distanceBuffer.AsSpan(0, m);
            var members = memberBuffer.AsSpan(0, m);
            int anchors = ranks.Length / m;
            for (int a = 0; a < anchors; a++)
            {
                int anchor = firstAnchor + a;
                int centre = positionOf[anchor];
                var label = padded[centre];
                distances[0] = T.Abs(label - label);
                members[0] = anchor;
                int left = centre - 1;
                int right = centre + 1;
                for (int k = 1; k < m; k++)
                {
                    var toLeft = T.Abs(label - padded[left]);
                    var toRight = T.Abs(label - padded[right]);
                    int takeLeft = toLeft <= toRight ? 1 : 0;
                    int taken = right + (takeLeft * (left - right));
                    distances[k] = takeLeft == 1 ? toLeft : toRight;
                    members[k] = order[taken - 1];
                    left -= takeLeft;
                    right += 1 - takeLeft;
                }

                WriteRanks(distances, members, ranks.Slice(a * m, m), ties);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(paddedBuffer);
            ArrayPool<int>.Shared.Return(positionBuffer);
            ArrayPool<T>.Shared.Return(distanceBuffer);
            ArrayPool<int>.Shared.Return(memberBuffer);
        }
    }

    /// <summary>
    /// Ranks of one row from its members in distance order: position + 1 over M, with runs of equal distances in index
    /// order (<see cref="RankTies.IndexOrder"/>) or at their mean rank (<see cref="RankTies.Average"/>).
    /// </summary>
    private static void WriteRanks<T>(ReadOnlySpan<T> distances, Span<int> members, Span<T> row, RankTies ties)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = distances.Length;
        var size = T.CreateTruncating(m);
        for (int runStart = 0, runEnd; runStart < m; runStart = runEnd + 1)
        {
            runEnd = runStart;
            while (runEnd + 1 < m && distances[runEnd + 1] == distances[runStart])
            {
                runEnd++;
            }

            var run = members.Slice(runStart, runEnd - runStart + 1);
            if (ties == RankTies.Average)
            {
                var mean = ((T.CreateTruncating(runStart + runEnd) / T.CreateTruncating(2)) + T.One) / size;
                foreach (int member in run)
                {
                    row[member] = mean;
                }

                continue;
            }

            if (run.Length > 1)
            {
                run.Sort();
            }

            for (int k = 0; k < run.Length; k++)
            {
                row[run[k]] = T.CreateTruncating(runStart + k + 1) / size;
            }
        }
    }
}
