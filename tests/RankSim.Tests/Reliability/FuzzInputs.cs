namespace RankSim.Tests.Reliability;

/// <summary>
/// Seeded inputs for the fuzz tests, in the classes a careless or malicious caller produces: odd shapes and dtypes,
/// views, NaN and infinities, values near the dtype's limits (huge, denormal, float16's 65504, int64 beyond 2^53 and
/// near 2^62), tensors on the meta device, sparse, quantized or disposed tensors, and null.
/// </summary>
internal sealed class FuzzInputs(int seed)
{
    private static readonly ScalarType[] Dtypes =
    [
        ScalarType.Float32, ScalarType.Float64, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int32, ScalarType.Int64,
        ScalarType.Byte, ScalarType.Bool, ScalarType.ComplexFloat32,
    ];

    private static readonly double[] Numbers =
    [
        0, -0.0, 1, -1, 0.5, 2, 3, 5, 7, 100, 1e9, -1e9, 1e15, 1e16, 1e16 + 4, 3e38, 1e39, 1e154, 1e300, -1e308, double.MaxValue,
        double.Epsilon, 1e-300, 1e-45, 1e-8, double.NaN, double.PositiveInfinity, double.NegativeInfinity, int.MaxValue,
        int.MinValue, 9007199254740993.0, 4.6e18, long.MaxValue, long.MinValue,
    ];

    private readonly Random _random = new(seed);

    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    public bool Coin() => _random.Next(2) == 0;

    /// <summary>One of a fixed list of ordinary and extreme doubles (NaN, infinities, limits, denormals, 2^53 + 1).</summary>
    public double Number() => Numbers[_random.Next(Numbers.Length)];

    /// <summary>A small whole number, or one of the numbers cast to int (saturating, NaN as 0) as a careless caller would.</summary>
    public int Int() => _random.Next(3) == 0 ? _random.Next(-2, 12) : (int)Saturate(Number(), int.MinValue, int.MaxValue);

    /// <summary>A small whole number, or one of the numbers cast to long (saturating, NaN as 0).</summary>
    public long Long() => _random.Next(3) == 0 ? _random.Next(-2, 12) : (long)Saturate(Number(), long.MinValue, long.MaxValue);

    /// <summary>A random enum value, now and then one the enum does not define.</summary>
    public TEnum Enum<TEnum>(int defined) where TEnum : struct, System.Enum => (TEnum)System.Enum.ToObject(typeof(TEnum), _random.Next(8) == 0 ? 42 : _random.Next(defined));

    /// <summary>
    /// A tensor for an argument expecting [batch] or [batch, D]: with <paramref name="mostlyValid"/> two thirds keep a
    /// valid shape and float32; any tensor may then be made a view, get a NaN or infinity, extreme values, or be moved to
    /// the meta device, made sparse, quantized, disposed or replaced by null.
    /// </summary>
    public Tensor Tensor(long batch, bool mostlyValid)
    {
        long[][] shapes = [[batch, 4], [batch], [batch, 1], [batch, 2, 3], [], [0], [batch, 0], [0, 4], [batch + 1, 4], [batch, 1, 1], [2, batch]];
        var shape = mostlyValid && _random.Next(3) > 0 ? shapes[_random.Next(3)] : shapes[_random.Next(shapes.Length)];
        var dtype = mostlyValid && _random.Next(3) > 0 ? ScalarType.Float32 : Dtypes[_random.Next(Dtypes.Length)];
        Tensor t = dtype == ScalarType.Bool
            ? randint(0, 2, shape).to(ScalarType.Bool)
            : dtype == ScalarType.ComplexFloat32 ? randn(shape, dtype: ScalarType.ComplexFloat32) : (randn(shape) * 5).to(dtype);
        switch (_random.Next(16))
        {
            case 0 when t.dim() == 2:
                t = t.t().contiguous().t();
                break;
            case 1 when t.dim() >= 1 && t.shape[0] > 1:
                t = cat([t, t], 0)[TensorIndex.Slice(null, null, 2)];
                break;
            case 2 when t.numel() > 0 && t.is_floating_point():
                t = t.clone();
                t.view(-1)[_random.Next((int)t.numel())] = _random.Next(3) switch { 0 => double.NaN, 1 => double.PositiveInfinity, _ => double.NegativeInfinity };
                break;
            case 3:
                t = empty(t.shape, dtype: t.dtype, device: torch.device("meta"));
                break;
            case 4 when t.dim() >= 1 && t.shape[0] > 0:
                t = t[TensorIndex.Slice(0, 1)].expand(t.shape);
                break;
            case 5 when t.is_floating_point() && !t.is_complex():
                // Near the dtype's largest finite value, or denormal.
                double max = t.dtype switch { ScalarType.Float16 => 65504, ScalarType.BFloat16 => 3.3e38, ScalarType.Float32 => float.MaxValue, _ => double.MaxValue };
                t = Coin() ? (t.to(ScalarType.Float64).sign() * max * (0.5 + 0.5 * rand(t.shape, dtype: ScalarType.Float64))).to(t.dtype) : (t.to(ScalarType.Float64) * 1e-41).to(t.dtype);
                break;
            case 6 when t.dtype == ScalarType.Int64:
                t = t + (Coin() ? (1L << 53) + 1 : 1L << 62);
                break;
            case 7 when t.numel() > 0 && !t.is_complex() && t.dtype != ScalarType.Bool:
                t = t.to(ScalarType.Float32).to_sparse();
                break;
            case 8 when t.numel() > 0 && !t.is_complex() && t.dtype != ScalarType.Bool:
                t = quantize_per_tensor(t.to(ScalarType.Float32), 0.1, 0, ScalarType.QInt8);
                break;
            case 9:
                t.Dispose();
                return t;
            case 10:
                return null!;
        }

        if (t.is_floating_point() && t.device_type != DeviceType.META && !t.is_sparse && Coin())
        {
            t = t.detach().requires_grad_();
        }

        return t;
    }

    private static double Saturate(double x, double min, double max) => double.IsNaN(x) ? 0 : Math.Clamp(x, min, max);

    /// <summary>Whether a tensor is live, dense, on a real device and free of NaN and infinities (so a result from it must be finite).</summary>
    public static bool IsOrdinary(Tensor? t) =>
        t is not null && !t.IsInvalid && t.device_type != DeviceType.META && !t.is_sparse && !t.is_quantized()
        && (!t.is_floating_point() || t.numel() == 0 || t.detach().isfinite().all().item<bool>());

    /// <summary>What kind of input a tensor is, for failure messages.</summary>
    public static string Describe(Tensor? t) =>
        t is null ? "null" : t.IsInvalid ? "disposed" : t.device_type == DeviceType.META ? "meta" : t.is_sparse ? "sparse"
        : t.is_quantized() ? "quantized" : IsOrdinary(t) ? $"{t.dtype}[{string.Join(",", t.shape)}]" : $"non-finite {t.dtype}";

    public static bool AllFinite(Tensor t) => t.numel() == 0 || t.detach().to(ScalarType.Float64).isfinite().all().item<bool>();
}
