using RankSim.Cpu;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// The one place that chooses, per operation and from its inputs (device, dtype, sizes and the
/// <see cref="CpuKernels.DisableSwitchName"/> switch), between the CPU kernels and the tensor formulas: each method
/// returns <see cref="CpuKernelBackend.Instance"/> where a kernel of <c>Cpu/</c> takes the input, else
/// <see cref="TensorBackend.Instance"/>.
/// </summary>
internal static class Dispatch
{
    /// <summary>The similarity of <paramref name="kept"/> rows of features [B, D].</summary>
    public static TensorBackend Gram(Tensor features, long kept) => Choose(GramRows.Takes(features, kept));

    /// <summary>Ranks of the rows of values [R, N].</summary>
    public static TensorBackend Rows(Tensor values) => Choose(RowRanker.Takes(values));

    /// <summary>Blackbox ranks of scores [N] or [R, N] and their gradient.</summary>
    public static TensorBackend Blackbox(Tensor scores) => Choose(BlackboxGradientRows.Takes(scores));

    /// <summary>Soft ranks of scores [N] or [R, N] and their gradient.</summary>
    public static TensorBackend SoftRanks(Tensor scores) => Choose(SoftRankRows.Takes(scores));

    /// <summary>The blackbox objective of similarities S [M, M] and its gradient.</summary>
    public static TensorBackend Objective(Tensor similarity) => Choose(FusedObjectiveRows.Takes(similarity));

    /// <summary>
    /// Ranks of the label distances of labels [M, K]: the scalar-label kernel where it takes them and their distances fit
    /// the dtype; else the distance matrix with its rows ranked as <see cref="Rows"/> picks.
    /// </summary>
    public static TensorBackend LabelRanks(Tensor labels) =>
        Choose(ScalarLabelRanker.Takes(labels) && ScalarLabelRanker.HasFiniteRange(labels));

    /// <summary>One sample per distinct label of labels [B, K].</summary>
    public static TensorBackend Sampler(Tensor labels) => Choose(ScalarLabelSampler.Takes(labels));

    /// <summary>The value checks of a tensor (finite values, integers within a bound): a scan in place where the kernel reads it.</summary>
    public static TensorBackend Scan(Tensor tensor) => Choose(FiniteScan.Takes(tensor));

    private static TensorBackend Choose(bool kernel) => kernel ? CpuKernelBackend.Instance : TensorBackend.Instance;
}
