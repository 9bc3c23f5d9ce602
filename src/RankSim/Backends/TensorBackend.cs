using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>
/// The operations the formulas are written against, each by the formula's tensor operations on any device: what CUDA
/// runs, the CPU's fallback, and the reference that <see cref="CpuKernelBackend"/>'s kernels are tested against. A
/// formula asks <see cref="Dispatch"/> for the backend of each operation; an autograd function keeps the one its forward
/// pass used and calls it again in backward, so forward and backward never mix the two.
/// </summary>
internal class TensorBackend
{
    /// <summary>The tensor implementation.</summary>
    public static readonly TensorBackend Instance = new();

    private protected TensorBackend()
    {
    }

    /// <summary>
    /// S [M, M] of the rows <paramref name="rows"/> (int64 [M], or null for all) of features [B, D] (float32 or float64)
    /// and what <see cref="GramGradient"/> needs (see <see cref="GramFunction"/> for the formula).
    /// </summary>
    public virtual (Tensor Product, Tensor[] Saved) Gram(Tensor features, Tensor? rows, bool cosine, Tensor? inputScale) =>
        GramFunction.Forward(features, rows, cosine, inputScale);

    /// <summary>
    /// dL/df [B, D] for the upstream gradient of S and what <see cref="Gram"/> saved; the upstream gradient may be
    /// overwritten where <paramref name="overwritable"/> says so.
    /// </summary>
    public virtual Tensor GramGradient(Tensor upstream, IList<Tensor> saved, Tensor? rows, bool cosine, long batch, bool overwritable) =>
        GramFunction.Gradient(upstream, saved, rows, cosine, batch);

    /// <summary>Normalized ranks of every row of values [R, N] (float32 or float64), ties by <paramref name="ties"/>.</summary>
    public virtual Tensor RankRows(Tensor values, bool descending, RankTies ties) =>
        descending ? Ranks.Descending(values, ties) : Ranks.Ascending(values, ties);

    /// <summary>The blackbox gradient [R, N] for rows s, g and their ranks r, all of one dtype (see <see cref="BlackboxRank"/>).</summary>
    public virtual Tensor BlackboxGradient(Tensor scores, Tensor upstream, Tensor ranks, double lambda) =>
        BlackboxRank.Gradient(scores, upstream, ranks, lambda);

    /// <summary>Soft ranks of rows [R, N] (float32 or float64) and what <see cref="SoftRankGradient"/> needs (see <see cref="SoftRank"/>).</summary>
    public virtual (Tensor Ranks, Tensor[] Saved) SoftRanks(Tensor rows, double regularization, double rankScale) =>
        SoftRank.Forward(rows, regularization, rankScale);

    /// <summary>dL/ds [R, N] for the upstream gradient [R, N] and what <see cref="SoftRanks"/> saved.</summary>
    public virtual Tensor SoftRankGradient(Tensor upstream, IList<Tensor> saved, double regularization, double rankScale) =>
        SoftRank.Gradient(upstream, saved, regularization, rankScale);

    /// <summary>
    /// The blackbox objective's value for similarities S [M, M] and the label ranks, and what <see cref="ObjectiveGradient"/>
    /// needs: tensors to save, and a state that holds none (see <see cref="RankSimObjective"/>). Here the label ranks'
    /// matrix in S's dtype, and no state.
    /// </summary>
    public virtual (Tensor Result, Tensor[] Saved, object? State) Objective(Tensor similarity, LabelRankMatrix labelRanks, Reduction reduction)
    {
        var (result, saved) = RankSimObjective.Forward(similarity, labelRanks.ToMatrix(similarity.dtype), reduction);
        return (result, saved, null);
    }

    /// <summary>dL/dS [M, M] for the upstream gradient (dense, S's dtype) and what <see cref="Objective"/> saved.</summary>
    public virtual Tensor ObjectiveGradient(IList<Tensor> saved, object? state, Tensor upstream, Reduction reduction, double lambda, bool perRow) =>
        RankSimObjective.Gradient(saved, upstream, reduction, lambda, perRow);

    /// <summary>
    /// Normalized ascending ranks [M, M] of the label distances of labels [M, K]: the distance matrix, its rows ranked by
    /// the backend <see cref="Dispatch.Rows"/> picks (see <see cref="LabelSimilarity"/>).
    /// </summary>
    public virtual Tensor LabelRanks(Tensor labels, RankTies ties, bool integerLabels) =>
        LabelSimilarity.RanksOfDistances(labels, ties, integerLabels);

    /// <summary>
    /// Whether every value of a floating-point tensor is finite: one sum (float32 and float64 in their own dtype, without
    /// a converted copy; float16 and bfloat16 accumulated in float32), finite unless a NaN or infinity is present or the
    /// sum of large finite values overflows; only a non-finite sum pays for the element-wise check. One device-to-host
    /// synchronization (two for a non-finite sum).
    /// </summary>
    public virtual bool AllFinite(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var values = tensor.detach();
        var sum = values.dtype is ScalarType.Float32 or ScalarType.Float64 ? values.sum() : values.sum(ScalarType.Float32);
        double total = sum.dtype == ScalarType.Float64 ? sum.item<double>() : sum.item<float>();
        return double.IsFinite(total) || values.isfinite().all().item<bool>();
    }

    /// <summary>Whether every value of an int64 tensor lies in [-bound, bound].</summary>
    public virtual bool AllWithin(Tensor tensor, long bound)
    {
        using var scope = NewDisposeScope();
        return !tensor.gt(bound).logical_or_(tensor.lt(-bound)).any().item<bool>();
    }

    /// <summary>One random sample per distinct label of labels [B, K] (see <see cref="DistinctLabelSampler"/>).</summary>
    public virtual Tensor? SampleDistinct(Tensor labels, Generator? generator) =>
        DistinctLabelSampler.SampleByTensors(labels, generator);
}
