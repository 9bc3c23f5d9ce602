using System.Runtime.CompilerServices;
using System.Buffers;
using System.Runtime.InteropServices;
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
    /// or null when all labels are distinct (every sample is kept, nothing is drawn).
    /// The only device-to-host synchronisation is the one that gives the number of distinct labels its shape; no loop over labels.
    /// Scalar float32/float64 labels on the CPU are grouped in managed code (<see cref="SampleScalarOnCpu"/>), with the same draw and result.
    /// </summary>
    public static Tensor? Sample(Tensor labels, Generator? generator)
    {
        bool scalarOnCpu = labels.device_type == DeviceType.CPU && labels.shape[1] == 1 && labels.is_contiguous()
            && labels.dtype is ScalarType.Float32 or ScalarType.Float64;
        return scalarOnCpu ? SampleScalarOnCpu(labels, generator) : SampleWithTensorOps(labels, generator);
    }

    /// <summary><see cref="Sample"/> for labels on any device, by tensor operations.</summary>
    internal static Tensor? SampleWithTensorOps(Tensor labels, Generator? generator)
    {
        using var scope = NewDisposeScope();
        long batch = labels.shape[0];
        var (values, groups, counts) = labels.shape[1] == 1
            ? labels.squeeze(1).unique(sorted: true, return_inverse: true, return_counts: true)
            : labels.unique(sorted: true, return_inverse: true, return_counts: true, dim: 0);
        groups = groups!.reshape(batch);
        long distinct = values!.shape[0];
        if (distinct == batch)
        {
            return null;
        }

        // A uniformly random order of the batch; each group keeps its member that comes first in that order.
        var order = DrawOrder(batch, labels.device, generator);
        var positionInOrder = empty(batch, dtype: ScalarType.Int64, device: labels.device)
            .scatter_(0, order, arange(batch, dtype: ScalarType.Int64, device: labels.device));

        // Sorting the keys group * B + position lists each group's members by their position in that order; the first
        // of every group sits where the group starts (the running count of the groups before it).
        var keys = (groups * batch + positionInOrder).sort().Values;
        var groupStarts = counts!.cumsum(0) - counts;
        var firstPosition = keys.index_select(0, groupStarts).remainder_(batch);
        var chosen = order.index_select(0, firstPosition).sort().Values;
        return chosen.MoveToOuterDisposeScope();
    }

    /// <summary>A uniformly random permutation of 0..batch-1 (int64, on <paramref name="device"/>), drawn from the generator.</summary>
    private static Tensor DrawOrder(long batch, Device device, Generator? generator) =>
        generator is null
            ? randperm(batch, dtype: ScalarType.Int64, device: device)
            : randperm(batch, dtype: ScalarType.Int64, device: generator.device, generator: generator).to(device);

    /// <summary>
    /// <see cref="Sample"/> for scalar float32 or float64 labels on the CPU: the same groups (exact equality, -0 equal to +0), the same
    /// draw from the generator and the same choice, found by one sort of the labels in managed code instead of about a dozen
    /// tensor operations.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Tensor? SampleScalarOnCpu(Tensor labels, Generator? generator)
    {
        int batch = (int)labels.shape[0];
        var keyBuffer = ArrayPool<double>.Shared.Rent(batch);
        var memberBuffer = ArrayPool<int>.Shared.Rent(batch);
        var groupBuffer = ArrayPool<int>.Shared.Rent(batch);
        var takenBuffer = ArrayPool<bool>.Shared.Rent(batch);
        try
        {
            var keys = keyBuffer.AsSpan(0, batch);
            var members = memberBuffer.AsSpan(0, batch);
            if (labels.dtype == ScalarType.Float64)
            {
                MemoryMarshal.Cast<byte, double>(labels.bytes).CopyTo(keys);
            }
            else
            {
                var singles = MemoryMarshal.Cast<byte, float>(labels.bytes);
                for (int i = 0; i < batch; i++)
                {
                    keys[i] = singles[i];
                }
            }

            for (int i = 0; i < batch; i++)
            {
                members[i] = i;
            }

            keys.Sort(members);
            var groupOf = groupBuffer.AsSpan(0, batch);
            int distinct = 0;
            for (int k = 0; k < batch; k++)
            {
                distinct += k == 0 || keys[k] != keys[k - 1] ? 1 : 0;
                groupOf[members[k]] = distinct - 1;
            }

            if (distinct == batch)
            {
                return null;
            }

            using var scope = NewDisposeScope();
            var order = MemoryMarshal.Cast<byte, long>(DrawOrder(batch, labels.device, generator).bytes);
            var taken = takenBuffer.AsSpan(0, distinct);
            taken.Clear();
            var chosen = members[..distinct];
            int count = 0;
            foreach (long sample in order)
            {
                ref bool groupTaken = ref taken[groupOf[(int)sample]];
                if (!groupTaken)
                {
                    groupTaken = true;
                    chosen[count++] = (int)sample;
                }
            }

            chosen.Sort();
            var result = empty(distinct, dtype: ScalarType.Int64, device: labels.device);
            var target = MemoryMarshal.Cast<byte, long>(result.bytes);
            for (int k = 0; k < distinct; k++)
            {
                target[k] = chosen[k];
            }

            return result.MoveToOuterDisposeScope();
        }
        finally
        {
            ArrayPool<double>.Shared.Return(keyBuffer);
            ArrayPool<int>.Shared.Return(memberBuffer);
            ArrayPool<int>.Shared.Return(groupBuffer);
            ArrayPool<bool>.Shared.Return(takenBuffer);
        }
    }
}
