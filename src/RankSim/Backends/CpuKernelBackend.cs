using RankSim.Cpu;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>
/// The operations by the managed CPU kernels of <c>Cpu/</c>, for the inputs <see cref="Dispatch"/> gives them: the same
/// ranks and, to float32 rounding, the same values and gradients as <see cref="TensorBackend"/> (tested bit for bit where
/// the kernels do the same float operations in the same order).
/// </summary>
internal sealed class CpuKernelBackend : TensorBackend
{
    /// <summary>The CPU-kernel implementation.</summary>
    public static new readonly CpuKernelBackend Instance = new();

    private CpuKernelBackend()
    {
    }

    public override (Tensor Product, Tensor[] Saved) Gram(Tensor features, Tensor? rows, bool cosine, Tensor? inputScale)
    {
        using var scope = NewDisposeScope();

        // The norm floor in the units of the features before their division by inputScale.
        double epsilon = SimilarityMatrix.NormalizationEpsilon / (inputScale is null ? 1.0 : inputScale.to(ScalarType.Float64).item<double>());
        var (n, denominators, scales) = GramRows.Normalize(RowBlocks.Contiguous(features), rows, cosine, epsilon);
        return (n.mm(n.t()).MoveToOuterDisposeScope(), [n.MoveToOuterDisposeScope(), denominators?.MoveToOuterDisposeScope()!, scales?.MoveToOuterDisposeScope()!]);
    }

    /// <summary>(G + G^T) n, the sum formed in G itself where it may be overwritten (one [M, M] fewer), else in a copy.</summary>
    public override Tensor GramGradient(Tensor upstream, IList<Tensor> saved, Tensor? rows, bool cosine, long batch, bool overwritable)
    {
        using var scope = NewDisposeScope();
        var n = saved[0];
        var g = RowBlocks.Contiguous(upstream);
        g = overwritable || !ReferenceEquals(g, upstream) ? g : g.clone();
        var normalizedGradient = GramRows.AddTransposeInPlace(g).mm(n);
        return GramRows.Gradient(normalizedGradient, n, rows, cosine ? saved[1] : null, cosine ? saved[2] : null, batch).MoveToOuterDisposeScope();
    }

    public override Tensor RankRows(Tensor values, bool descending, RankTies ties)
    {
        using var scope = NewDisposeScope();
        return RowRanker.Rank(RowBlocks.Contiguous(values), descending, ties).MoveToOuterDisposeScope();
    }

    public override Tensor BlackboxGradient(Tensor scores, Tensor upstream, Tensor ranks, double lambda)
    {
        using var scope = NewDisposeScope();
        return BlackboxGradientRows.Compute(
            RowBlocks.Contiguous(scores), RowBlocks.Contiguous(upstream), RowBlocks.Contiguous(ranks), lambda, BlackboxRank.GradientEpsilon).MoveToOuterDisposeScope();
    }

    public override (Tensor Ranks, Tensor[] Saved) SoftRanks(Tensor rows, double regularization, double rankScale)
    {
        using var scope = NewDisposeScope();
        var (ranks, order, blockEnds) = SoftRankRows.Forward(RowBlocks.Contiguous(rows), regularization, SoftRank.GapCap(rows.size(1)), rankScale);
        return (ranks.MoveToOuterDisposeScope(), [order.MoveToOuterDisposeScope(), blockEnds.MoveToOuterDisposeScope()]);
    }

    public override Tensor SoftRankGradient(Tensor upstream, IList<Tensor> saved, double regularization, double rankScale)
    {
        using var scope = NewDisposeScope();
        return SoftRankRows.Gradient(RowBlocks.Contiguous(upstream), saved[0], saved[1], regularization, rankScale).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The fused objective. Label ranks of labels that the kernels rank themselves are read row by row as the kernel
    /// consumes them (forward and backward), so RL [M, M] is never held; the state is then their ties, and the labels are
    /// saved. Otherwise the matrix, made float32, is saved.
    /// </summary>
    public override (Tensor Result, Tensor[] Saved, object? State) Objective(Tensor similarity, LabelRankMatrix labelRanks, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        var s = RowBlocks.Contiguous(similarity);
        bool byRows = labelRanks.Labels is not null && labelRanks.Backend == this;
        // A handle of this scope (detach), so that saving it never moves the caller's own handle.
        var source = (byRows ? labelRanks.Labels! : RowBlocks.Contiguous(labelRanks.ToMatrix(ScalarType.Float32))).detach();
        using var rows = byRows ? ScalarLabelRanker.Rows(source, labelRanks.Ties) : LabelRankRows.Of(source);
        var (featurePositions, perAnchor) = FusedObjectiveRows.Forward(s, rows);
        var result = reduction switch
        {
            Reduction.Sum => perAnchor.sum(),
            Reduction.Mean => perAnchor.mean(),
            _ => perAnchor,
        };
        object? state = byRows ? labelRanks.Ties : null;
        return (result.MoveToOuterDisposeScope(), [s.MoveToOuterDisposeScope(), featurePositions.MoveToOuterDisposeScope(), source.MoveToOuterDisposeScope()], state);
    }

    public override Tensor ObjectiveGradient(IList<Tensor> saved, object? state, Tensor upstream, Reduction reduction, double lambda, bool perRow)
    {
        using var scope = NewDisposeScope();
        var similarity = saved[0];
        float divisor = RankSimObjective.Divisor(reduction, similarity.size(0));
        using var rows = state is RankTies ties ? ScalarLabelRanker.Rows(saved[2], ties) : LabelRankRows.Of(saved[2]);
        return FusedObjectiveRows.Backward(
            similarity, saved[1], rows, RowBlocks.Contiguous(upstream.reshape(-1)), reduction == Reduction.None, divisor,
            lambda, perRow, InputValidation.MaxLambda, BlackboxRank.GradientEpsilon).MoveToOuterDisposeScope();
    }

    public override Tensor LabelRanks(Tensor labels, RankTies ties, bool integerLabels) => ScalarLabelRanker.Rank(labels, ties);

    public override bool AllFinite(Tensor tensor) => FiniteScan.AllFinite(tensor);

    public override bool AllWithin(Tensor tensor, long bound) => FiniteScan.AllWithin(tensor, bound);

    public override Tensor? SampleDistinct(Tensor labels, Generator? generator)
    {
        var groups = ScalarLabelSampler.Groups(labels, out int distinct);
        if (distinct == labels.size(0))
        {
            return null;
        }

        using var scope = NewDisposeScope();
        var order = DistinctLabelSampler.DrawOrder(labels.size(0), labels.device, generator);
        return ScalarLabelSampler.Choose(groups, distinct, order, labels.device).MoveToOuterDisposeScope();
    }
}
