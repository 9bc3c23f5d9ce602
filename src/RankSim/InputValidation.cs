using TorchSharp;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// Argument checks shared by the public entry points. Everything is checked before a custom autograd function is
/// applied: an exception thrown inside an autograd backward pass would terminate the process.
/// </summary>
internal static class InputValidation
{
    public static string Shape(Tensor tensor) => "[" + string.Join(", ", tensor.shape) + "]";

    /// <summary>Throws when an enum argument holds a value its type does not define.</summary>
    public static void RequireDefined<TEnum>(TEnum value, string name)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"Unknown {typeof(TEnum).Name} value {value}.");
        }
    }

    /// <summary>The largest interpolation strength accepted: it must convert to float32 inside the backward pass.</summary>
    public const double MaxLambda = 1e30;

    /// <summary>
    /// Scores for a ranker (<see cref="BlackboxRank.Apply(TorchSharp.torch.Tensor, double)"/>, <see cref="SoftRank.Apply"/>): 1-D [N] or 2-D [R, N],
    /// floating point, not empty, dense with data, finite. Call <see cref="RequireLive"/> first.
    /// </summary>
    public static void RequireRankScores(Tensor scores, string name)
    {
        if (scores.dim() is < 1 or > 2)
        {
            throw new ArgumentException($"{name} must be 1-D [N] or 2-D [R, N]; got shape [{string.Join(", ", scores.shape)}].", name);
        }

        RequireFloatingPoint(scores, name);
        if (scores.numel() == 0)
        {
            throw new ArgumentException($"{name} must not be empty; got shape [{string.Join(", ", scores.shape)}].", name);
        }

        RequireData(scores, name);
        RequireFinite(scores, name);
    }

    public static void RequireLambda(double lambda, string name)
    {
        if (!double.IsFinite(lambda) || lambda <= 0 || lambda > MaxLambda)
        {
            throw new ArgumentOutOfRangeException(name, lambda, $"The interpolation strength lambda must be a finite number greater than 0 and at most {MaxLambda:G}.");
        }
    }

    /// <summary>
    /// Throws <see cref="ArgumentNullException"/> for null and <see cref="ArgumentException"/> for a disposed tensor (which
    /// TorchSharp would meet with an <see cref="InvalidOperationException"/> on first use). Every other check starts with it.
    /// </summary>
    public static void RequireLive(Tensor? tensor, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        if (tensor.IsInvalid)
        {
            throw new ArgumentException($"{name} has been disposed; pass a live tensor.", name);
        }
    }

    public static void RequireFloatingPoint(Tensor tensor, string name)
    {
        RequireLive(tensor, name);
        if (!IsFloatingPoint(tensor.dtype))
        {
            throw new ArgumentException($"{name} must have a floating-point dtype (float16, bfloat16, float32 or float64); got {tensor.dtype}.", name);
        }
    }

    public static void RequireRealNumber(Tensor tensor, string name)
    {
        RequireLive(tensor, name);
        if (tensor.dtype is ScalarType.Bool or ScalarType.ComplexFloat32 or ScalarType.ComplexFloat64)
        {
            throw new ArgumentException($"{name} must hold real numbers (an integer or floating-point dtype); got {tensor.dtype}.", name);
        }
    }

    public static bool IsFloatingPoint(ScalarType dtype) =>
        dtype is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;

    /// <summary>
    /// Throws when a floating-point tensor holds NaN or an infinity. CPU float32/float64 tensors are scanned in place
    /// (vectorized, no copy); elsewhere it costs one device-to-host synchronization (two when it throws).
    /// </summary>
    public static void RequireFinite(Tensor tensor, string name)
    {
        if (IsFloatingPoint(tensor.dtype) && !Dispatch.Scan(tensor).AllFinite(tensor))
        {
            throw new ArgumentException($"{name} contains NaN or infinite values.", name);
        }
    }

    /// <summary>
    /// Throws when a loss computed from finite inputs is not finite: its true value lies beyond the dtype's range (for
    /// example float32 squared errors of values near 1e19). Costs one scan of the result (a device synchronization off the CPU).
    /// </summary>
    public static void RequireFiniteResult(Tensor result, string what)
    {
        if (!IsFloatingPoint(result.dtype) || Dispatch.Scan(result).AllFinite(result))
        {
            return;
        }

        throw new ArgumentException(
            $"The {what} of these inputs overflows {result.dtype} (the predictions and targets are too far apart for that dtype); rescale the targets or compute in float64.", "input");
    }

    /// <summary>
    /// Rejects tensors whose values cannot be read as a plain strided array: on the meta device (shapes, no values),
    /// sparse, or quantized.
    /// </summary>
    public static void RequireData(Tensor tensor, string name)
    {
        RequireLive(tensor, name);
        if (tensor.device_type == DeviceType.META)
        {
            throw new ArgumentException($"{name} is on the meta device, which holds no values.", name);
        }

        if (tensor.is_sparse)
        {
            throw new ArgumentException($"{name} is a sparse tensor; pass a dense one (tensor.to_dense()).", name);
        }

        if (tensor.is_quantized())
        {
            throw new ArgumentException($"{name} is a quantized tensor ({tensor.dtype}); pass a dense floating-point or integer one (tensor.dequantize()).", name);
        }
    }

    /// <summary>
    /// The inputs of a feature regularizer (<see cref="RankSimLoss"/>, <see cref="OrdinalEntropyLoss"/>): features [B, ...]
    /// floating point with at least one value per row, labels [B], [B, 1] or [B, K] of real numbers (int64 within
    /// +-2^53), both dense with data on one device, and (with <paramref name="checkFinite"/>) finite.
    /// </summary>
    public static void RequireFeaturesAndLabels(Tensor features, Tensor labels, bool checkFinite)
    {
        RequireLive(features, nameof(features));
        RequireLive(labels, nameof(labels));
        if (features.dim() < 2)
        {
            throw new ArgumentException(
                $"features must have at least 2 dimensions [B, D, ...]; got shape {Shape(features)}.", nameof(features));
        }

        RequireFloatingPoint(features, nameof(features));
        if (labels.dim() is < 1 or > 2)
        {
            throw new ArgumentException($"labels must be [B], [B, 1] or [B, K]; got shape {Shape(labels)}.", nameof(labels));
        }

        RequireRealNumber(labels, nameof(labels));
        long batch = features.size(0);
        long labelBatch = labels.size(0);
        if (labelBatch != batch)
        {
            throw new ArgumentException($"labels has batch size {labelBatch} but features has {batch}.", nameof(labels));
        }

        if (batch == 0)
        {
            throw new ArgumentException("The batch is empty (batch size 0).", nameof(features));
        }

        if (features.numel() == 0)
        {
            throw new ArgumentException($"features has no feature values (shape {Shape(features)}).", nameof(features));
        }

        if (labels.numel() == 0)
        {
            throw new ArgumentException($"labels has no values (shape {Shape(labels)}).", nameof(labels));
        }

        RequireData(features, nameof(features));
        RequireData(labels, nameof(labels));
        RequireSameDevice(features, nameof(features), labels, nameof(labels));
        RequireExactInFloat64(labels, nameof(labels));
        if (checkFinite)
        {
            RequireFinite(features, nameof(features));
            RequireFinite(labels, nameof(labels));
        }
    }

    /// <summary>The largest integer magnitude float64 holds exactly, 2^53.</summary>
    public const long MaxExactInteger = 1L << 53;

    /// <summary>
    /// Rejects int64 labels beyond +-2^53, which float64 cannot hold exactly (neighbouring labels would merge). Reads CPU
    /// labels in place; elsewhere costs one device-to-host synchronization, for int64 tensors only.
    /// </summary>
    public static void RequireExactInFloat64(Tensor labels, string name)
    {
        if (labels.dtype != ScalarType.Int64)
        {
            return;
        }

        bool within = Dispatch.Scan(labels).AllWithin(labels, MaxExactInteger);
        if (!within)
        {
            throw new ArgumentException(
                $"{name} holds integers beyond +-2^53 ({MaxExactInteger}), which float64 cannot represent exactly; labels that far apart would merge. Rescale or shift them.", name);
        }
    }

    /// <summary>
    /// Rejects a generator that cannot draw: disposed, or naming a device other than the CPU or CUDA (TorchSharp creates
    /// every generator on the CPU; the permutation it draws is moved to the features' device).
    /// </summary>
    public static void RequireGenerator(Generator? generator, string name)
    {
        if (generator is null)
        {
            return;
        }

        if (generator.Handle == IntPtr.Zero)
        {
            throw new ArgumentException("The generator has been disposed; pass a live one, or null for TorchSharp's default generator.", name);
        }

        if (generator.device.type is not (DeviceType.CPU or DeviceType.CUDA))
        {
            throw new ArgumentException(
                $"The generator is on {generator.device}; pass a CPU (or CUDA) generator: it draws which samples are kept, for features on any device.", name);
        }
    }

    public static void RequireSameDevice(Tensor first, string firstName, Tensor second, string secondName)
    {
        if (first.device_type != second.device_type || first.device_index != second.device_index)
        {
            throw new ArgumentException(
                $"{secondName} is on {second.device} but {firstName} is on {first.device}; move both to the same device.", secondName);
        }
    }
}
