using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>The CPU kernel for <see cref="DistinctLabelSampler"/> on scalar labels.</summary>
internal static class ScalarLabelSampler
{
    /// <summary>
    /// <see cref="DistinctLabelSampler.Sample"/> for a contiguous column [B, 1] of float32 or float64 labels on the CPU: the
    /// same groups (exact equality, -0 equal to +0), the same draw from the generator and the same choice, found by one
    /// sort of the labels in managed code instead of about a dozen tensor operations.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Tensor? Sample(Tensor labels, Generator? generator)
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
            var order = MemoryMarshal.Cast<byte, long>(DistinctLabelSampler.DrawOrder(batch, labels.device, generator).bytes);
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
