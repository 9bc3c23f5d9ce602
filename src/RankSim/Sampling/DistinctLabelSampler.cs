using TorchSharp;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Keeps one sample per distinct label value (RankSim, Gong et al., ICML 2022, Sec. 3.2: fewer ties in the label
/// ranking, more weight for rare labels). Labels are "the same" only when exactly equal (every component for K-dimensional
/// labels). The representative of each label is drawn uniformly among the samples that carry it.
/// </summary>
internal static class DistinctLabelSampler
{
    /// <summary>
    /// Indices [M] (int64, ascending, on the labels' device) of one sample per distinct row of <paramref name="labels"/> [B, K],
    /// or null when all labels are distinct (every sample is kept, nothing is drawn), by the backend
    /// <see cref="Dispatch.Sampler"/> picks: scalar labels on the CPU by a managed sort, everything else by
    /// <see cref="SampleByTensors"/>. Both draw the same order from the generator and keep the same samples.
    /// </summary>
    public static Tensor? Sample(Tensor labels, Generator? generator) => Dispatch.Sampler(labels).SampleDistinct(labels, generator);

    public static Tensor? SampleByTensors(Tensor labels, Generator? generator)
    {
        using var scope = NewDisposeScope();
        long batch = labels.size(0);
        var (values, groups, counts) = labels.size(1) == 1
            ? labels.squeeze(1).unique(sorted: true, return_inverse: true, return_counts: true)
            : labels.unique(sorted: true, return_inverse: true, return_counts: true, dim: 0);
        long distinct = values!.size(0);
        if (distinct == batch)
        {
            return null;
        }

        // A uniformly random order of the batch; each group keeps its member that comes first in that order. A stable sort
        // of the group numbers taken in that order lists each group's members by their position in the order; the first of
        // every group sits where the group starts (the running count of the groups before it).
        var order = DrawOrder(batch, labels.device, generator);
        var groupsInOrder = (groups!.dim() == 1 ? groups : groups.reshape(batch)).index_select(0, order);
        var positions = groupsInOrder.sort(dim: 0, stable: true).Indices;
        var firstPosition = positions.index_select(0, counts!.cumsum(0).sub_(counts));
        return order.index_select(0, firstPosition).sort().Values.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A uniformly random permutation of 0..batch-1 (int64, on <paramref name="device"/>), drawn from the generator. A
    /// given generator draws on the CPU (TorchSharp creates every generator on the CPU, whatever device it names) and the
    /// permutation is moved to <paramref name="device"/>.
    /// </summary>
    internal static Tensor DrawOrder(long batch, Device device, Generator? generator) =>
        generator is null
            ? randperm(batch, dtype: ScalarType.Int64, device: device)
            : device.type == DeviceType.CPU
                ? randperm(batch, dtype: ScalarType.Int64, device: CPU, generator: generator)
                : randperm(batch, dtype: ScalarType.Int64, device: CPU, generator: generator).to(device);
}
