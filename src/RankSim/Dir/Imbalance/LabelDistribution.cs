using static TorchSharp.torch;

namespace RankSim.Dir;

/// <summary>
/// The training label distribution: a histogram of training labels over a <see cref="LabelBinning"/>. Source of
/// re-weighting (<see cref="Reweight"/>), of label distribution smoothing (<see cref="Smooth"/>) and of the
/// many/medium/few-shot split (<see cref="ShotSplit"/>).
/// </summary>
public sealed class LabelDistribution
{
    private readonly double[] _counts;

    private LabelDistribution(LabelBinning binning, double[] counts)
    {
        Binning = binning;
        _counts = counts;
    }

    /// <summary>The bins.</summary>
    public LabelBinning Binning { get; }

    /// <summary>Number of training samples per bin.</summary>
    public IReadOnlyList<double> Counts => _counts;

    /// <summary>Total number of training samples.</summary>
    public long SampleCount => (long)_counts.Sum();

    /// <summary>
    /// Histogram of <paramref name="labels"/> (any shape, any device; copied to the host once). Each label is binned in
    /// its own precision (see <see cref="LabelBinning.BinIndex(Tensor)"/>), so float32 and float64 labels give the same histogram.
    /// </summary>
    /// <param name="labels">Training labels, integer or floating, finite.</param>
    /// <param name="binning">Bins; default: integer bins over [floor(min label), floor(max label)].</param>
    /// <exception cref="ArgumentException">Empty, non-real or non-finite labels.</exception>
    public static LabelDistribution FromLabels(Tensor labels, LabelBinning? binning = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var values = LabelValues.ToDoubles(labels, nameof(labels));
        binning ??= LabelBinning.Integers((long)Math.Floor(values.Min()), (long)Math.Floor(values.Max()));
        var counts = new double[binning.Count];
        using var scope = NewDisposeScope();
        foreach (long bin in binning.BinIndex(labels).reshape(-1).cpu().data<long>())
        {
            counts[bin]++;
        }

        return new LabelDistribution(binning, counts);
    }

    /// <summary>Histogram of label values held on the host.</summary>
    /// <param name="labels">Training labels, finite, at least one.</param>
    /// <param name="binning">Bins; default: integer bins over [floor(min label), floor(max label)].</param>
    /// <exception cref="ArgumentException">No labels, or a non-finite label.</exception>
    public static LabelDistribution FromValues(IReadOnlyList<double> labels, LabelBinning? binning = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0)
        {
            throw new ArgumentException("No labels given.", nameof(labels));
        }

        if (labels.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("labels contains NaN or infinite values.", nameof(labels));
        }

        binning ??= LabelBinning.Integers((long)Math.Floor(labels.Min()), (long)Math.Floor(labels.Max()));
        var counts = new double[binning.Count];
        foreach (double label in labels)
        {
            counts[binning.BinIndex(label)]++;
        }

        return new LabelDistribution(binning, counts);
    }

    /// <summary>
    /// Label distribution smoothing (LDS, DIR Eq. 2): the histogram convolved with the max-normalized kernel window,
    /// zero padding at the ends. Returns one value per bin.
    /// </summary>
    public double[] Smooth(KernelWindow kernel) => Convolve(_counts, kernel);

    /// <summary>
    /// Per-sample weights 1 / effective count of the sample's bin, rescaled so that they average 1 over the training set.
    /// </summary>
    /// <param name="reweighting">Inverse (clipped counts) or square-root inverse.</param>
    /// <param name="lds">When given, the transformed counts are smoothed with this kernel (LDS) before inversion.</param>
    /// <param name="clipMin">Lower clip of the counts for <see cref="Reweighting.Inverse"/> (default 5).</param>
    /// <param name="clipMax">Upper clip of the counts for <see cref="Reweighting.Inverse"/> (default 1000).</param>
    /// <exception cref="ArgumentOutOfRangeException">Unknown re-weighting, or clip bounds not finite with 0 &lt; min &lt;= max.</exception>
    public LabelWeights Reweight(Reweighting reweighting, KernelWindow? lds = null, double clipMin = 5, double clipMax = 1000)
    {
        InputValidation.RequireDefined(reweighting, nameof(reweighting));

        if (!double.IsFinite(clipMin) || !double.IsFinite(clipMax) || clipMin <= 0 || clipMax < clipMin)
        {
            throw new ArgumentOutOfRangeException(nameof(clipMin), clipMin, $"Clip bounds must be finite with 0 < min <= max; got [{clipMin}, {clipMax}].");
        }

        var transformed = reweighting == Reweighting.Inverse
            ? _counts.Select(c => Math.Clamp(c, clipMin, clipMax)).ToArray()
            : _counts.Select(Math.Sqrt).ToArray();
        var effective = lds is null ? transformed : Convolve(transformed, lds);

        // Rescale so that the mean weight over the training samples is 1.
        double inverseSum = 0;
        for (int b = 0; b < effective.Length; b++)
        {
            if (_counts[b] > 0)
            {
                inverseSum += _counts[b] / effective[b];
            }
        }

        double scale = SampleCount / inverseSum;
        var binWeights = effective.Select(e => e > 0 ? scale / e : 0.0).ToArray();
        if (!binWeights.All(double.IsFinite))
        {
            // Clip bounds near the float64 limits overflow the rescaling: redo it in log space, and refuse what is still out of range.
            binWeights = LogSpaceWeights(effective);
        }

        return new LabelWeights(Binning, binWeights, effective);
    }

    /// <summary>n / (e_b * sum over bins with samples of c / e), in log space.</summary>
    private double[] LogSpaceWeights(double[] effective)
    {
        var terms = effective.Select((e, b) => _counts[b] > 0 ? Math.Log(_counts[b]) - Math.Log(e) : double.NegativeInfinity).ToArray();
        double top = terms.Max();
        double logSum = top + Math.Log(terms.Sum(t => Math.Exp(t - top)));
        var weights = effective.Select(e => e > 0 ? Math.Exp(Math.Log(SampleCount) - Math.Log(e) - logSum) : 0.0).ToArray();
        if (!weights.All(double.IsFinite))
        {
            throw new ArgumentOutOfRangeException("clipMin", "The clip bounds make some bin weights exceed float64's range; narrow them.");
        }

        return weights;
    }

    /// <summary>Convolution of per-bin values with the max-normalized window, zero padding at the ends.</summary>
    private static double[] Convolve(double[] values, KernelWindow kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var window = kernel.MaxNormalized();
        int half = window.Length / 2;
        var result = new double[values.Length];
        for (int b = 0; b < values.Length; b++)
        {
            for (int k = -half; k <= half; k++)
            {
                int source = b + k;
                if (source >= 0 && source < values.Length)
                {
                    result[b] += window[k + half] * values[source];
                }
            }
        }

        return result;
    }
}
