using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// The label ranks RL [M, M] an objective compares the feature ranks with: a given matrix, or labels [M, K] whose
/// distance ranks (<see cref="LabelSimilarity.DistanceRanks"/>) are made by the backend <see cref="Dispatch.LabelRanks"/>
/// picks for them (<see cref="Backend"/>). A backend may read such ranks row by row where it consumes them instead of
/// holding the matrix (the CPU kernels do, for the labels their ranker takes); <see cref="ToMatrix"/> makes the matrix.
/// </summary>
internal sealed class LabelRankMatrix
{
    private readonly Tensor? _matrix;

    private LabelRankMatrix(Tensor? matrix, Tensor? labels, RankTies ties, bool integerLabels)
    {
        _matrix = matrix;
        Labels = labels;
        Ties = ties;
        IntegerLabels = integerLabels;
        Backend = labels is null ? TensorBackend.Instance : Dispatch.LabelRanks(labels);
    }

    /// <summary>The labels [M, K] the ranks are made from; null for a given matrix.</summary>
    public Tensor? Labels { get; }

    /// <summary>How equal label distances share ranks.</summary>
    public RankTies Ties { get; }

    /// <summary>Whether the labels came from an integer dtype (see <see cref="LabelSimilarity.Distances"/>).</summary>
    public bool IntegerLabels { get; }

    /// <summary>The backend that ranks the labels' distances.</summary>
    public TensorBackend Backend { get; }

    /// <summary>A given matrix [M, M] of label ranks.</summary>
    public static LabelRankMatrix Of(Tensor matrix) => new(matrix, null, RankTies.IndexOrder, false);

    /// <summary>The distance ranks of labels [M, K] in a floating dtype, ties by <paramref name="ties"/>.</summary>
    public static LabelRankMatrix FromLabels(Tensor labels, RankTies ties, bool integerLabels) => new(null, labels, ties, integerLabels);

    /// <summary>
    /// The matrix [M, M] in <paramref name="dtype"/> (made by <see cref="Backend"/> for labels), in the caller's dispose
    /// scope; the given matrix itself where it has that dtype.
    /// </summary>
    public Tensor ToMatrix(ScalarType dtype)
    {
        var matrix = _matrix ?? Backend.LabelRanks(Labels!, Ties, IntegerLabels);
        return matrix.dtype == dtype ? matrix : matrix.to(dtype);
    }
}
