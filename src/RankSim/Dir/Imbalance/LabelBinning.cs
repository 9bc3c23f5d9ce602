using static TorchSharp.torch;

namespace RankSim.Dir;

/// <summary>
/// Splits the label axis into bins [e_k, e_(k+1)) given by increasing edges e_0 &lt; ... &lt; e_n (n bins). Labels below
/// e_1 fall into the first bin and labels at or above e_(n-1) into the last, so labels outside the range land in the end
/// bins. Used by <see cref="LabelDistribution"/>, <see cref="FeatureDistributionSmoothing"/> and the DIR evaluation.
/// </summary>
public sealed class LabelBinning
{
    /// <summary>The largest number of bins a binning may have (10,000,000).</summary>
    public static int MaxBins => 10_000_000;

    private readonly double[] _edges;

    private LabelBinning(double[] edges, bool integerBins)
    {
        _edges = edges;
        IsInteger = integerBins;
    }

    /// <summary>Number of bins n.</summary>
    public int Count => _edges.Length - 1;

    /// <summary>The n + 1 bin edges, increasing.</summary>
    public IReadOnlyList<double> Edges => _edges;

    /// <summary>True for unit-width bins on whole numbers (bin = floor(label)).</summary>
    public bool IsInteger { get; }

    /// <summary>Lower edge of each bin (for integer bins, the label value the bin stands for).</summary>
    public double LowerEdge(int bin) => _edges[bin];

    /// <summary>Unit-width bins for the whole numbers <paramref name="min"/>..<paramref name="max"/> (bin = floor(label) - min).</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="max"/> is below <paramref name="min"/>, either lies beyond +-2^53 (where the float64 edges would merge),
    /// or the range is over <see cref="MaxBins"/> bins.
    /// </exception>
    public static LabelBinning Integers(long min, long max)
    {
        if (max < min)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, $"max must be at least min ({min}).");
        }

        foreach (var (value, name) in new[] { (min, nameof(min)), (max, nameof(max)) })
        {
            if (value is < -InputValidation.MaxExactInteger or > InputValidation.MaxExactInteger - 1)
            {
                throw new ArgumentOutOfRangeException(name, value,
                    $"Integer bins must lie within +-2^53 ({InputValidation.MaxExactInteger}): beyond it float64 edges cannot tell neighbouring integers apart.");
            }
        }

        if ((double)max - min >= MaxBins)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, $"Integer bins over more than {MaxBins:N0} values; use FixedWidth with fewer bins instead.");
        }

        var edges = new double[max - min + 2];
        for (long i = 0; i < edges.Length; i++)
        {
            edges[i] = min + i;
        }

        return new LabelBinning(edges, integerBins: true);
    }

    /// <summary>Integer bins over [floor(min label), floor(max label)] of the given training labels (any shape, any device).</summary>
    /// <exception cref="ArgumentException">The labels are empty, not real numbers, or not finite.</exception>
    public static LabelBinning IntegersFromLabels(Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var values = LabelValues.ToDoubles(labels, nameof(labels));
        return Integers((long)Math.Floor(values.Min()), (long)Math.Floor(values.Max()));
    }

    /// <summary><paramref name="count"/> bins of equal width over [<paramref name="min"/>, <paramref name="max"/>] (STS-B: 50 bins over [0, 5]).</summary>
    /// <exception cref="ArgumentOutOfRangeException">count outside [1, <see cref="MaxBins"/>], or the range is empty or not finite.</exception>
    public static LabelBinning FixedWidth(double min, double max, int count)
    {
        if (count < 1 || count > MaxBins)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"The number of bins must lie in [1, {MaxBins:N0}].");
        }

        if (!double.IsFinite(min) || !double.IsFinite(max) || max <= min)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, $"The range [{min}, {max}] must be finite and non-empty.");
        }

        // (max - min) * i overflows for ranges near double.MaxValue: there, half the step is taken twice instead.
        bool wide = !double.IsFinite((max - min) * count);
        var edges = new double[count + 1];
        for (int i = 0; i <= count; i++)
        {
            double half = (max / 2 - min / 2) / count * i;
            edges[i] = wide ? (i == count ? max : Math.Min(min + half + half, max)) : min + (max - min) * i / count;
        }

        for (int i = 1; i <= count; i++)
        {
            if (edges[i] <= edges[i - 1])
            {
                throw new ArgumentOutOfRangeException(nameof(count), count,
                    $"{count:N0} bins over [{min:G17}, {max:G17}] are narrower than float64 can tell apart at that magnitude; use fewer bins or a shifted range.");
            }
        }

        return new LabelBinning(edges, integerBins: false);
    }

    /// <summary>Bins given by explicit, strictly increasing, finite edges (at least two).</summary>
    /// <exception cref="ArgumentException">Fewer than two edges, or edges not finite and strictly increasing.</exception>
    public static LabelBinning FromEdges(IReadOnlyList<double> edges)
    {
        ArgumentNullException.ThrowIfNull(edges);
        if (edges.Count < 2)
        {
            throw new ArgumentException("At least two edges (one bin) are needed.", nameof(edges));
        }

        for (int i = 0; i < edges.Count; i++)
        {
            if (!double.IsFinite(edges[i]) || (i > 0 && edges[i] <= edges[i - 1]))
            {
                throw new ArgumentException($"Edges must be finite and strictly increasing; edge {i} is {edges[i]}.", nameof(edges));
            }
        }

        return new LabelBinning(edges.ToArray(), integerBins: false);
    }

    /// <summary>
    /// Bin index of every label: an int64 tensor of the labels' shape, on the labels' device. Floating labels are compared
    /// with the edges rounded to their own dtype, so a label gets the same bin whether it arrives as float32 or float64:
    /// the float32 label 2.6f (2.5999999...) lies on the edge 2.6 of <c>FixedWidth(0, 5, 50)</c>, as the float64 2.6 does.
    /// Integer labels are compared in float64.
    /// </summary>
    /// <exception cref="ArgumentException">The labels are not real numbers, NaN or infinite, or sparse, quantized or on the meta device.</exception>
    public Tensor BinIndex(Tensor labels)
    {
        InputValidation.RequireRealNumber(labels, nameof(labels));
        InputValidation.RequireData(labels, nameof(labels));
        InputValidation.RequireFinite(labels, nameof(labels));
        using var scope = NewDisposeScope();
        var precision = InputValidation.IsFloatingPoint(labels.dtype) ? labels.dtype : ScalarType.Float64;

        // Rounding is monotonic, so the rounded inner edges stay sorted (possibly with repeats), as bucketize needs.
        var inner = tensor(_edges[1..^1], dtype: ScalarType.Float64, device: labels.device).to(precision);
        var index = bucketize(labels.detach().to(precision).contiguous(), inner, false, true);
        return index.MoveToOuterDisposeScope();
    }

    /// <summary>Bin index of one label value (a float64 value: compared with the edges as they are).</summary>
    /// <exception cref="ArgumentException">The label is NaN or infinite.</exception>
    public int BinIndex(double label)
    {
        if (!double.IsFinite(label))
        {
            throw new ArgumentException($"A label must be finite to have a bin; got {label}.", nameof(label));
        }

        int index = Array.BinarySearch(_edges, 1, _edges.Length - 2, label);
        int bin = index >= 0 ? index : ~index - 1;
        return Math.Clamp(bin, 0, Count - 1);
    }
}
