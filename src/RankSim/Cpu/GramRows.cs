using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Cpu;

/// <summary>
/// The row-wise parts of the similarity S = n n^T for float32 features on the CPU, in managed code: gathering and
/// normalizing the kept rows, n = f / max(||f||, eps) (forward), and the normalization's Jacobian, written straight into
/// the full [B, D] gradient with zero rows for the samples that were not kept (backward); also G + G^T by tiles. The
/// squared norms and the dot products n . dn are summed in float64; one pass over the rows replaces about a dozen
/// libtorch operations, which dominate the cost for the small M of age-like labels. Callers keep every whole-tensor
/// span within <see cref="CpuKernels.MaxSpanBytes"/> (<see cref="GramRows.Takes"/> decides).
/// </summary>
internal static class GramRows
{
    /// <summary>
    /// Whether this primitive computes the similarity of <paramref name="kept"/> rows of features [B, D]: float32 on the
    /// CPU, with every buffer it reads or writes within one span.
    /// </summary>
    public static bool Takes(Tensor features, long kept)
    {
        long batch = features.size(0);
        long dimension = features.size(1);
        return CpuKernels.Enabled && features.device_type == DeviceType.CPU && features.dtype == ScalarType.Float32
            && CpuKernels.FitsOneSpan(batch * dimension, sizeof(float)) && CpuKernels.FitsOneSpan(kept * dimension, sizeof(float))
            && CpuKernels.FitsOneSpan(kept * kept, sizeof(float));
    }

    /// <summary>The smallest normal float32, the least row scale.</summary>
    private const float SmallestNormal = 1.17549435e-38f;

    /// <summary>Side of the square tiles of <see cref="AddTransposeInPlace"/>: two 32 x 32 float tiles fit in any L1 cache.</summary>
    private const int TransposeTile = 32;

    /// <summary>
    /// The kept rows of <paramref name="features"/> [B, D] (all rows when <paramref name="rows"/> is null), normalized
    /// for cosine: n = (f / s) / max(||f / s||, eps / s) = f / max(||f||, eps) with s the row's largest magnitude (at
    /// least the smallest normal float). <paramref name="features"/> must be contiguous. Returns n [M, D], and for cosine
    /// the denominators max(||f / s||, eps / s) [M] and the scales s [M].
    /// </summary>
    public static (Tensor Normalized, Tensor? Denominators, Tensor? Scales) Normalize(Tensor features, Tensor? rows, bool cosine, double epsilon)
    {
        long m = rows?.size(0) ?? features.size(0);
        int d = (int)features.size(1);
        var normalized = empty(m, d, dtype: ScalarType.Float32, device: features.device);
        var denominators = cosine ? empty(m, dtype: ScalarType.Float32, device: features.device) : null;
        var scales = cosine ? empty(m, dtype: ScalarType.Float32, device: features.device) : null;
        RowBlocks.Run(m, d, (long)d * sizeof(float), (start, count) =>
        {
            var source = MemoryMarshal.Cast<byte, float>(features.bytes);
            var rowIndices = rows is null ? default : RowBlocks.Rows<long>(rows, start, count);
            var target = RowBlocks.Rows<float>(normalized, start, count);
            var blockDenominators = cosine ? RowBlocks.Rows<float>(denominators!, start, count) : default;
            var blockScales = cosine ? RowBlocks.Rows<float>(scales!, start, count) : default;
            for (int r = 0; r < count; r++)
            {
                long row = rows is null ? start + r : rowIndices[r];
                var input = source.Slice((int)(row * d), d);
                var output = target.Slice(r * d, d);
                if (!cosine)
                {
                    input.CopyTo(output);
                    continue;
                }

                (blockDenominators[r], blockScales[r]) = NormalizeRow(input, output, epsilon);
            }
        });
        return (normalized, denominators, scales);
    }

    /// <summary>
    /// The gradient [B, D] for features with B rows from dL/dn [M, D]: for cosine, (dn - n (n . dn)) / denominator / s
    /// per kept row; otherwise dn itself. Rows not in <paramref name="rows"/> are zero.
    /// </summary>
    public static Tensor Gradient(Tensor normalizedGradient, Tensor normalized, Tensor? rows, Tensor? denominators, Tensor? scales, long batch)
    {
        int m = (int)normalized.size(0);
        int d = (int)normalized.size(1);
        var gradient = empty(batch, d, dtype: ScalarType.Float32, device: normalized.device);
        var keptPosition = ArrayPool<int>.Shared.Rent((int)batch);
        try
        {
            keptPosition.AsSpan(0, (int)batch).Fill(-1);
            var rowIndices = rows is null ? default : RowBlocks.Rows<long>(rows, 0, m);
            for (int r = 0; r < m; r++)
            {
                keptPosition[rows is null ? r : (int)rowIndices[r]] = r;
            }

            RowBlocks.Run(batch, d, (long)d * sizeof(float), (start, count) =>
            {
                var dn = MemoryMarshal.Cast<byte, float>(normalizedGradient.bytes);
                var n = MemoryMarshal.Cast<byte, float>(normalized.bytes);
                var target = RowBlocks.Rows<float>(gradient, start, count);
                var denominator = denominators is null ? default : RowBlocks.Rows<float>(denominators, 0, m);
                var scale = scales is null ? default : RowBlocks.Rows<float>(scales, 0, m);
                for (int b = 0; b < count; b++)
                {
                    int r = keptPosition[start + b];
                    var output = target.Slice(b * d, d);
                    if (r < 0)
                    {
                        output.Clear();
                    }
                    else if (denominators is null)
                    {
                        dn.Slice(r * d, d).CopyTo(output);
                    }
                    else
                    {
                        JacobianRow(n.Slice(r * d, d), dn.Slice(r * d, d), denominator[r], scale[r], output);
                    }
                }
            });
        }
        finally
        {
            ArrayPool<int>.Shared.Return(keptPosition);
        }

        return gradient;
    }

    /// <summary>
    /// G + G^T written over G [M, M] (contiguous float32, CPU), which it returns: tile pairs (I, J) and (J, I) are copied
    /// to a local buffer by rows, summed there, and copied back by rows. (Walking a tile's columns in place touches rows M
    /// floats apart, which for M a multiple of 1024 all fall in one set of the L1 cache.) g_ij + g_ji is the same float
    /// either way round.
    /// </summary>
    public static Tensor AddTransposeInPlace(Tensor g)
    {
        int m = (int)g.size(0);
        int tileRows = (m + TransposeTile - 1) / TransposeTile;
        RowBlocks.Run(tileRows, (long)TransposeTile * m, (long)TransposeTile * m * sizeof(float), (start, count) =>
        {
            var values = MemoryMarshal.Cast<byte, float>(g.bytes);
            Span<float> tiles = stackalloc float[2 * TransposeTile * TransposeTile];
            for (long tileRow = start; tileRow < start + count; tileRow++)
            {
                int rowStart = (int)tileRow * TransposeTile;
                for (int columnStart = rowStart; columnStart < m; columnStart += TransposeTile)
                {
                    AddTransposedTiles(values, m, rowStart, columnStart, tiles);
                }
            }
        });
        return g;
    }

    /// <summary>
    /// g[i, j] = g[j, i] = g[i, j] + g[j, i] for the tile of rows from <paramref name="rowStart"/> and columns from
    /// <paramref name="columnStart"/> (at most <see cref="TransposeTile"/> each, columnStart &gt;= rowStart) and its mirror
    /// tile: a = the tile, b = the mirror, both copied by rows into <paramref name="tiles"/>, summed there, copied back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddTransposedTiles(Span<float> g, int m, int rowStart, int columnStart, Span<float> tiles)
    {
        const int t = TransposeTile;
        int rows = Math.Min(t, m - rowStart);
        int columns = Math.Min(t, m - columnStart);
        var a = tiles[..(t * t)];
        var b = tiles[(t * t)..];
        for (int i = 0; i < rows; i++)
        {
            g.Slice(((rowStart + i) * m) + columnStart, columns).CopyTo(a.Slice(i * t, columns));
        }

        bool diagonal = rowStart == columnStart;
        if (diagonal)
        {
            // The tile is its own mirror: i < j and j < i are one pair, summed once.
            for (int i = 0; i < rows; i++)
            {
                for (int j = i; j < columns; j++)
                {
                    float sum = a[(i * t) + j] + a[(j * t) + i];
                    a[(i * t) + j] = sum;
                    a[(j * t) + i] = sum;
                }
            }
        }
        else
        {
            for (int j = 0; j < columns; j++)
            {
                g.Slice(((columnStart + j) * m) + rowStart, rows).CopyTo(b.Slice(j * t, rows));
            }

            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < columns; j++)
                {
                    float sum = a[(i * t) + j] + b[(j * t) + i];
                    a[(i * t) + j] = sum;
                    b[(j * t) + i] = sum;
                }
            }

            for (int j = 0; j < columns; j++)
            {
                b.Slice(j * t, rows).CopyTo(g.Slice(((columnStart + j) * m) + rowStart, rows));
            }
        }

        for (int i = 0; i < rows; i++)
        {
            a.Slice(i * t, columns).CopyTo(g.Slice(((rowStart + i) * m) + columnStart, columns));
        }
    }

    /// <summary>
    /// Writes (f / s) / max(||f / s||, eps / s) of one row and returns the denominator and s. Two passes: the largest
    /// magnitude and the sum of squares together in float64 (a float32 squared neither overflows nor underflows there),
    /// then one multiplication a value by 1 / (s * denominator) in float64 (the product underflows in float32 for an
    /// all-zero row). Divisions are the slow instruction here. The first pass keeps four partial sums, so that
    /// consecutive additions do not wait for each other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float Denominator, float Scale) NormalizeRow(ReadOnlySpan<float> input, Span<float> output, double epsilon)
    {
        var largest = Vector256<float>.Zero;
        var otherLargest = Vector256<float>.Zero;
        var squares = Vector256<double>.Zero;
        var moreSquares = Vector256<double>.Zero;
        var otherSquares = Vector256<double>.Zero;
        var lastSquares = Vector256<double>.Zero;
        int j = 0;
        for (; j <= input.Length - (2 * Vector256<float>.Count); j += 2 * Vector256<float>.Count)
        {
            var values = Vector256.Create(input[j..]);
            var others = Vector256.Create(input[(j + Vector256<float>.Count)..]);
            largest = Vector256.Max(largest, Vector256.Abs(values));
            otherLargest = Vector256.Max(otherLargest, Vector256.Abs(others));
            var (lower, upper) = Vector256.Widen(values);
            var (otherLower, otherUpper) = Vector256.Widen(others);
            squares += lower * lower;
            moreSquares += upper * upper;
            otherSquares += otherLower * otherLower;
            lastSquares += otherUpper * otherUpper;
        }

        largest = Vector256.Max(largest, otherLargest);
        squares += moreSquares + (otherSquares + lastSquares);
        for (; j <= input.Length - Vector256<float>.Count; j += Vector256<float>.Count)
        {
            var values = Vector256.Create(input[j..]);
            largest = Vector256.Max(largest, Vector256.Abs(values));
            var (lower, upper) = Vector256.Widen(values);
            squares += (lower * lower) + (upper * upper);
        }

        float scale = 0;
        for (int k = 0; k < Vector256<float>.Count; k++)
        {
            scale = MathF.Max(scale, largest[k]);
        }

        double sum = Vector256.Sum(squares);
        for (int k = j; k < input.Length; k++)
        {
            scale = MathF.Max(scale, MathF.Abs(input[k]));
            sum += (double)input[k] * input[k];
        }

        // max(||f / s||, eps / s): s times it is max(||f||, eps), normalize's clamp (a zero row's gradient is dn / eps).
        scale = MathF.Max(scale, SmallestNormal);
        float denominator = (float)Math.Max(Math.Sqrt(sum) / scale, epsilon / scale);
        Scale(input, 1.0 / ((double)scale * denominator), output);
        return (denominator, scale);
    }

    /// <summary>
    /// Writes (dn - n (n . dn)) / denominator / scale of one kept row, the two divisions as one float64 multiplication
    /// (in the same pass as the difference). The dot product keeps two partial sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void JacobianRow(ReadOnlySpan<float> n, ReadOnlySpan<float> dn, float denominator, float scale, Span<float> output)
    {
        var dots = Vector256<double>.Zero;
        var moreDots = Vector256<double>.Zero;
        int j = 0;
        for (; j <= n.Length - Vector256<float>.Count; j += Vector256<float>.Count)
        {
            var (nLower, nUpper) = Vector256.Widen(Vector256.Create(n[j..]));
            var (dnLower, dnUpper) = Vector256.Widen(Vector256.Create(dn[j..]));
            dots += nLower * dnLower;
            moreDots += nUpper * dnUpper;
        }

        double sum = Vector256.Sum(dots + moreDots);
        for (; j < n.Length; j++)
        {
            sum += (double)n[j] * dn[j];
        }

        float along = (float)sum;
        double factor = 1.0 / ((double)denominator * scale);
        var alongs = Vector256.Create(along);
        var factors = Vector256.Create(factor);
        j = 0;
        for (; j <= n.Length - Vector256<float>.Count; j += Vector256<float>.Count)
        {
            var (lower, upper) = Vector256.Widen(Vector256.Create(dn[j..]) - (Vector256.Create(n[j..]) * alongs));
            Vector256.Narrow(lower * factors, upper * factors).CopyTo(output[j..]);
        }

        for (; j < n.Length; j++)
        {
            output[j] = (float)((dn[j] - (n[j] * along)) * factor);
        }
    }

    /// <summary>output[j] = (float)(values[j] * factor), the product in float64; <paramref name="output"/> may be <paramref name="values"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scale(ReadOnlySpan<float> values, double factor, Span<float> output)
    {
        var factors = Vector256.Create(factor);
        int j = 0;
        for (; j <= values.Length - Vector256<float>.Count; j += Vector256<float>.Count)
        {
            var (lower, upper) = Vector256.Widen(Vector256.Create(values[j..]));
            Vector256.Narrow(lower * factors, upper * factors).CopyTo(output[j..]);
        }

        for (; j < values.Length; j++)
        {
            output[j] = (float)(values[j] * factor);
        }
    }
}
