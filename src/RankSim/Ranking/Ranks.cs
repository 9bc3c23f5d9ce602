using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Row-wise normalized ranks (RankSim, Gong et al., ICML 2022, Sec. 3: rk(.)):
/// rank(v)_j = position of v_j when the row is sorted in descending order (0 = largest), normalized as
/// (rank + 1) / N, so every value lies in {1/N, ..., 1}. Example: [0.1, 0.9, 0.5, 0.3] -> [1.0, 0.25, 0.5, 0.75].
/// <see cref="Ascending"/> ranks from the smallest instead, which ranks -v exactly as <see cref="Descending"/> ranks v
/// (ties included) without negating. Equal values are ranked in index order (or share their mean rank, see
/// <see cref="RankTies"/>) on every device. Every NaN, whatever its sign or payload, ranks as one value above +infinity
/// (libtorch's sort order). This is the device-agnostic formula: one stable sort per matrix and one scatter of positions
/// (no argsort of an argsort). On the CPU, the row kernel of <see cref="CpuKernelBackend"/> gives the same ranks.
/// </summary>
internal static class Ranks
{
    /// <summary>
    /// Normalized ranks of each row of <paramref name="values"/> [R, N] in its floating dtype, by the backend
    /// <see cref="Dispatch.Rows"/> picks (the CPU kernel, or <see cref="Descending"/> / <see cref="Ascending"/>).
    /// </summary>
    public static Tensor Rows(Tensor values, bool descending, RankTies ties) => Dispatch.Rows(values).RankRows(values, descending, ties);

    public static Tensor Descending(Tensor values, RankTies ties) => BySort(values, ties, descending: true);

    /// <summary>
    /// Normalized descending ranks, index-order ties, of each row of <paramref name="values"/> [R, N], with the
    /// <see cref="Positions"/> of N in the values' dtype and device already at hand (a caller that ranks twice makes them once).
    /// </summary>
    public static Tensor DescendingWith(Tensor values, Tensor positions) => BySort(values, RankTies.IndexOrder, descending: true, positions);

    /// <summary>Normalized ascending ranks (0 = smallest) of each row of <paramref name="values"/> [R, N], in its (floating) dtype.</summary>
    public static Tensor Ascending(Tensor values, RankTies ties) => BySort(values, ties, descending: false);

    /// <summary>The normalized ranks of index-order ties, (k + 1) / n for k = 0..n-1, [n] of <paramref name="dtype"/>.</summary>
    public static Tensor Positions(long n, ScalarType dtype, Device device) => arange(1, n + 1, dtype: dtype, device: device).div_(n);

    /// <summary>One stable sort of each row and a scatter of the positions (<paramref name="indexOrderPositions"/>, if given, for index-order ties).</summary>
    private static Tensor BySort(Tensor values, RankTies ties, bool descending, Tensor? indexOrderPositions = null)
    {
        using var scope = NewDisposeScope();
        long n = values.size(-1);
        var (sorted, order) = values.sort(dim: -1, descending: descending, stable: true);
        Tensor positions = ties switch
        {
            RankTies.IndexOrder => (indexOrderPositions ?? Positions(n, values.dtype, values.device)).expand_as(values),
            RankTies.Average => AveragePositions(sorted, n),
            _ => throw new ArgumentOutOfRangeException(nameof(ties), ties, "Unknown tie policy."),
        };

        // Every position of each row is written once (the order is a permutation), into the sorted values, which are not
        // needed any more: no new [R, N] tensor. The average positions were computed from them before.
        return sorted.scatter_(-1, order, positions).MoveToOuterDisposeScope();
    }

    /// <summary>For each sorted position, the mean normalized rank of the run of equal values it belongs to.</summary>
    private static Tensor AveragePositions(Tensor sorted, long n)
    {
        var index = arange(n, dtype: ScalarType.Int64, device: sorted.device).expand_as(sorted);
        var next = sorted[TensorIndex.Ellipsis, TensorIndex.Slice(1)];
        var previous = sorted[TensorIndex.Ellipsis, TensorIndex.Slice(null, -1)];

        // NaN != NaN, but all NaNs sort together as one value: a run continues from a NaN to a NaN.
        var changes = next.ne(previous).logical_and_(next.isnan().logical_and_(previous.isnan()).logical_not_());
        var firstColumn = ones_like(sorted[TensorIndex.Ellipsis, TensorIndex.Slice(null, 1)], dtype: ScalarType.Bool);
        var startsRun = cat([firstColumn, changes], dim: -1);
        var endsRun = cat([changes, firstColumn], dim: -1);

        // Start of each run: running maximum of the positions where a run starts.
        var runStart = where(startsRun, index, zeros_like(index)).cummax(-1).values;

        // End of each run: running minimum, from the right, of the positions where a run ends.
        var runEnd = where(endsRun, index, full_like(index, n - 1)).flip(-1).cummin(-1).values.flip(-1);
        return (runStart + runEnd).to(sorted.dtype).div_(2.0).add_(1.0).div_(n);
    }
}
