using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// The label ranks RL [M, M] as the fused objective reads them, one anchor's row at a time: from a matrix
/// (<see cref="Of"/>), or computed from the labels as they are read (<see cref="ScalarLabelRanker.Rows"/>), so that the
/// whole matrix is never held.
/// </summary>
internal abstract class LabelRankRows : IDisposable
{
    /// <summary>The rows of a contiguous float32 matrix [M, M] on the CPU (kept alive by the caller).</summary>
    public static LabelRankRows Of(Tensor matrix) => new MatrixRows(matrix);

    /// <summary>A reader for one worker: rows are read in increasing anchor order, one at a time.</summary>
    public abstract LabelRankReader Open();

    /// <inheritdoc />
    public abstract void Dispose();

    private sealed class MatrixRows(Tensor matrix) : LabelRankRows
    {
        public override LabelRankReader Open() => new Reader(matrix);

        public override void Dispose()
        {
        }

        private sealed class Reader(Tensor matrix) : LabelRankReader
        {
            public override ReadOnlySpan<float> Row(int anchor) => RowBlocks.Rows<float>(matrix, anchor, 1);

            public override void Dispose()
            {
            }
        }
    }
}

/// <summary>One worker's view of <see cref="LabelRankRows"/>: the row of one anchor, valid until the next read.</summary>
internal abstract class LabelRankReader : IDisposable
{
    /// <summary>RL's row of <paramref name="anchor"/> (M float32 ranks).</summary>
    public abstract ReadOnlySpan<float> Row(int anchor);

    /// <inheritdoc />
    public abstract void Dispose();
}
