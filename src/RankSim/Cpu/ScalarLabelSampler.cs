using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// One sample per distinct scalar label on the CPU, by one managed sort of the labels instead of about a dozen tensor
/// operations: <see cref="Groups"/> finds the groups of exactly equal labels (-0 equal to +0), <see cref="Choose"/> keeps
/// the member of each group that comes first in a given random order.
/// </summary>
internal static class ScalarLabelSampler
{
    /// <summary>Whether this primitive groups these labels [B, K]: a contiguous float32 or float64 column on the CPU.</summary>
    public static bool Takes(Tensor labels) =>
        CpuKernels.Enabled && labels.device_type == DeviceType.CPU && labels.size(1) == 1 && labels.is_contiguous()
        && labels.dtype is ScalarType.Float32 or ScalarType.Float64 && CpuKernels.FitsOneSpan(labels.size(0), sizeof(double));

    /// <summary>
    /// The group of every label of a contiguous column [B, 1] of float32 or float64 labels on the CPU: groups numbered in
    /// ascending label order, and their number in <paramref name="distinct"/> (the batch size when every label is distinct).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int[] Groups(Tensor labels, out int distinct)
    {
        int batch = (int)labels.size(0);
        var keyBuffer = ArrayPool<double>.Shared.Rent(batch);
        var memberBuffer = ArrayPool<int>.Shared.Rent(batch);
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
            var groupOf = new int[batch];
            distinct = 0;
            for (int k = 0; k < batch; k++)
            {
                distinct += k == 0 || keys[k] != keys[k - 1] ? 1 : 0;
                groupOf[members[k]] = distinct - 1;
            }

            return groupOf;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(keyBuffer);
            ArrayPool<int>.Shared.Return(memberBuffer);
        }
    }

    /// <summary>
    /// The member of each of the <paramref name="distinct"/> groups that comes first in <paramref name="order"/> (a
    /// permutation of the samples, int64 [B] on the CPU): their indices, ascending, int64 [distinct] on <paramref name="device"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Tensor Choose(int[] groupOf, int distinct, Tensor order, Device device)
    {
        var takenBuffer = ArrayPool<bool>.Shared.Rent(distinct);
        var chosenBuffer = ArrayPool<int>.Shared.Rent(distinct);
        try
        {
            var taken = takenBuffer.AsSpan(0, distinct);
            taken.Clear();
            var chosen = chosenBuffer.AsSpan(0, distinct);
            int count = 0;
            foreach (long sample in MemoryMarshal.Cast<byte, long>(order.bytes))
            {
                ref bool groupTaken = ref taken[groupOf[(int)sample]];
                if (!groupTaken)
                {
                    groupTaken = true;
                    chosen[count++] = (int)sample;
                }
            }

            chosen.Sort();
            var result = empty(distinct, dtype: ScalarType.Int64, device: device);
            var target = MemoryMarshal.Cast<byte, long>(result.bytes);
            for (int k = 0; k < distinct; k++)
            {
                target[k] = chosen[k];
            }

            return result;
        }
        finally
        {
            ArrayPool<bool>.Shared.Return(takenBuffer);
            ArrayPool<int>.Shared.Return(chosenBuffer);
        }
    }
}
