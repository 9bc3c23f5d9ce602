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
    private const int SingleExponent = 0x7F80_0000;
    private const long DoubleExponent = 0x7FF0_0000_0000_0000;

    /// <summary>
    /// Whether this scan reads the tensor: contiguous on the CPU within one span, float32 or float64 (for
    /// <see cref="AllFinite"/>) or int64 (for <see cref="AllWithin"/>).
    /// </summary>
    public static bool Takes(Tensor tensor) =>
        CpuKernels.Enabled && tensor.device_type == DeviceType.CPU && tensor.dtype is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Int64
        && tensor.is_contiguous() && CpuKernels.FitsOneSpan(tensor.numel(), tensor.ElementSize);

    /// <summary>Whether every value of a tensor <see cref="Takes"/> reads is finite.</summary>
    public static bool AllFinite(Tensor tensor) =>
        tensor.dtype == ScalarType.Float32
            ? NoneHasAllBits(MemoryMarshal.Cast<byte, int>(tensor.bytes), SingleExponent)
            : NoneHasAllBits(MemoryMarshal.Cast<byte, long>(tensor.bytes), DoubleExponent);

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

    /// <summary>
    /// Whether no element has every bit of <paramref name="exponent"/> set: with the sign bit cleared, an element is not
    /// finite exactly when it is at least <paramref name="exponent"/> as a signed integer. The largest magnitude is kept
    /// in four vector accumulators (no branch per vector) and compared once per block of <see cref="BlockElements"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool NoneHasAllBits<T>(ReadOnlySpan<T> bits, T exponent)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T>
    {
        var magnitude = new Vector<T>(T.MaxValue);
        var limit = new Vector<T>(exponent);
        int width = Vector<T>.Count;
        int i = 0;
        while (i <= bits.Length - (4 * width))
        {
            var a = Vector<T>.Zero;
            var b = Vector<T>.Zero;
            var c = Vector<T>.Zero;
            var d = Vector<T>.Zero;
            int end = Math.Min(bits.Length - (4 * width), i + BlockElements);
            for (; i <= end; i += 4 * width)
            {
                a = Vector.Max(a, new Vector<T>(bits[i..]) & magnitude);
                b = Vector.Max(b, new Vector<T>(bits[(i + width)..]) & magnitude);
                c = Vector.Max(c, new Vector<T>(bits[(i + (2 * width))..]) & magnitude);
                d = Vector.Max(d, new Vector<T>(bits[(i + (3 * width))..]) & magnitude);
            }

            if (Vector.GreaterThanOrEqualAny(Vector.Max(Vector.Max(a, b), Vector.Max(c, d)), limit))
            {
                return false;
            }
        }

        for (; i < bits.Length; i++)
        {
            if ((bits[i] & T.MaxValue) >= exponent)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Elements scanned between two checks of the accumulators (16 KB of float32).</summary>
    private const int BlockElements = 4096;
}
