using static TorchSharp.torch;

namespace RankSim.Dir;

/// <summary>
/// Per-bin sample weights from <see cref="LabelDistribution.Reweight"/>: weight = scale / effective count, with the scale
/// chosen so the weights average 1 over the training set. A bin with no effective count (no training samples and no
/// smoothing mass) has weight 0.
/// </summary>
public sealed class LabelWeights
{
    private readonly double[] _binWeights;
    private readonly double[] _effectiveCounts;

    internal LabelWeights(LabelBinning binning, double[] binWeights, double[] effectiveCounts)
    {
        Binning = binning;
        _binWeights = binWeights;
        _effectiveCounts = effectiveCounts;
    }

    /// <summary>The bins.</summary>
    public LabelBinning Binning { get; }

    /// <summary>Weight of each bin.</summary>
    public IReadOnlyList<double> BinWeights => _binWeights;

    /// <summary>Effective count of each bin: clipped or square-rooted counts, LDS-smoothed where asked.</summary>
    public IReadOnlyList<double> EffectiveCounts => _effectiveCounts;

    /// <summary>Weights for <paramref name="labels"/>: same shape, float32 (float64 for float64 labels), on the labels' device.</summary>
    /// <exception cref="ArgumentException">The labels are not real numbers, hold NaN or infinite values, or are sparse, quantized or on the meta device.</exception>
    public Tensor Lookup(Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        InputValidation.RequireRealNumber(labels, nameof(labels));
        InputValidation.RequireData(labels, nameof(labels));
        InputValidation.RequireFinite(labels, nameof(labels));
        using var scope = NewDisposeScope();
        var dtype = labels.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var table = tensor(_binWeights, dtype: dtype, device: labels.device);
        var index = Binning.BinIndex(labels);
        return table.index_select(0, index.reshape(-1)).reshape(labels.shape).MoveToOuterDisposeScope();
    }
}
