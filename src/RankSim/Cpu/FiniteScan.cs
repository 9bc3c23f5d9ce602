using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// Value checks that read contiguous CPU tensors in place: NaN / infinity detection for float32 and float64 (a value is
/// not finite exactly when all its exponent bits are set) and a range check for int64. Several times faster than a
/// libtorch reduction plus a device-to-host read for the batches RankSim sees.
/// </summary>
internal static class FiniteScan
{
    private const uint SingleExponent = 0x7F80_0000u;
    private const ulong DoubleExponent = 0x7FF0_0000_0000_0000ul;

    /// <summary>Whether every value is finite; null when the tensor is not one this scan reads (other device, dtype or layout).</summary>
    public static bool? AllFinite(Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous() || tensor.numel() * tensor.ElementSize > int.MaxValue)
        {
            return null;
        }

        return tensor.dtype switch
        {
            ScalarType.Float32 => NoneHasAllBits(MemoryMarshal.Cast<byte, uint>(tensor.bytes), SingleExponent),
            ScalarType.Float64 => NoneHasAllBits(MemoryMarshal.Cast<byte, ulong>(tensor.bytes), DoubleExponent),
            _ => null,
        };
    }

    /// <summary>Whether every value of a contiguous CPU int64 tensor lies in [-<paramref name="bound"/>, <paramref name="bound"/>].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AllWithin(Tensor tensor, long bound)
    {
        var values = MemoryMarshal.Cast<byte, long>(tensor.bytes);
        var upper = new Vector<long>(bound);
        var lower = new Vector<long>(-bound);
        int i = 0;
        for (; i <= values.Length - Vector<long>.Count; i += Vector<long>.Count)
        {
            var chunk = new Vector<long>(values[i..]);
            if (Vector.GreaterThanAny(chunk, upper) || Vector.LessThanAny(chunk, lower))
            {
                return false;
            }
        }

        for (; i < values.Length; i++)
        {
            if (values[i] > bound || values[i] < -bound)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether no element has every bit of <paramref name="mask"/> set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool NoneHasAllBits<T>(ReadOnlySpan<T> bits, T mask)
        where T : unmanaged, IBinaryInteger<T>
    {
        var masks = new Vector<T>(mask);
        int i = 0;
        for (; i <= bits.Length - Vector<T>.Count; i += Vector<T>.Count)
        {
            if (Vector.EqualsAny(new Vector<T>(bits[i..]) & masks, masks))
            {
                return false;
            }
        }

        for (; i < bits.Length; i++)
        {
            if ((bits[i] & mask) == mask)
            {
                return false;
            }
        }

        return true;
    }
}
