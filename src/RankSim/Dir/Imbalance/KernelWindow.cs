namespace RankSim.Dir;

/// <summary>Shape of the symmetric smoothing kernel used by LDS and FDS.</summary>
public enum KernelShape
{
    /// <summary>scipy's gaussian_filter1d (truncate 4.0, reflect boundary) of a unit impulse of length size.</summary>
    Gaussian,

    /// <summary>scipy's triang(size); sigma is not used.</summary>
    Triangular,

    /// <summary>exp(-|x| / sigma) / (2 sigma) for x = -h..h, h = (size - 1) / 2.</summary>
    Laplace,
}

/// <summary>
/// A symmetric kernel window over neighbouring label bins (Yang et al., "Delving into Deep Imbalanced Regression",
/// ICML 2021, Sec. 3.1 and 3.2). LDS uses it max-normalized (peak 1), FDS sum-normalized (sum 1).
/// </summary>
public sealed class KernelWindow
{
    /// <summary>The largest kernel size (10,001 bins).</summary>
    public static int MaxSize => 10_001;

    /// <summary>The largest sigma accepted (100,000 bins): wider kernels are flat over any window this class builds.</summary>
    public static double MaxSigma => 100_000;

    private readonly double[] _raw;

    private const double GaussianTruncate = 4.0;

    /// <summary>Creates a window.</summary>
    /// <param name="shape">Kernel shape (default Gaussian, as in the DIR paper).</param>
    /// <param name="size">Odd number of bins the window spans (default 5).</param>
    /// <param name="sigma">Width in bins, &gt; 0 (default 2); not used by <see cref="KernelShape.Triangular"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// An even, non-positive or too large (over <see cref="MaxSize"/>) size; sigma not finite, not positive or over
    /// <see cref="MaxSigma"/>; or a sigma whose window is degenerate: so small that every weight but the center one is 0
    /// (the window would not smooth), or whose weights are not finite. All checked here, at construction.
    /// </exception>
    public KernelWindow(KernelShape shape = KernelShape.Gaussian, int size = 5, double sigma = 2.0)
    {
        InputValidation.RequireDefined(shape, nameof(shape));

        if (size < 1 || size % 2 == 0 || size > MaxSize)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"The kernel size must be a positive odd number, at most {MaxSize}.");
        }

        if (!double.IsFinite(sigma) || sigma <= 0 || sigma > MaxSigma)
        {
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, $"The kernel width sigma must be a finite number greater than 0 and at most {MaxSigma:N0} bins.");
        }

        Shape = shape;
        Size = size;
        Sigma = sigma;
        _raw = Raw();
        int center = (size - 1) / 2;
        if (_raw.Any(v => !double.IsFinite(v)) || _raw[center] <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, $"sigma {sigma} gives a {shape} window of {size} bins whose weights are not finite; use a sigma nearer 1.");
        }

        if (size > 1 && _raw.Where((_, i) => i != center).All(v => v == 0))
        {
            throw new ArgumentOutOfRangeException(
                nameof(sigma), sigma, $"sigma {sigma} is too small for a {shape} window of {size} bins: every weight but the center one is 0, so it would not smooth. Use a larger sigma, or size 1 for no smoothing.");
        }
    }

    /// <summary>Kernel shape.</summary>
    public KernelShape Shape { get; }

    /// <summary>Odd window length in bins.</summary>
    public int Size { get; }

    /// <summary>Kernel width in bins.</summary>
    public double Sigma { get; }

    /// <summary>The LDS window: the kernel divided by its maximum (peak 1), length <see cref="Size"/>.</summary>
    public double[] MaxNormalized()
    {
        double max = _raw.Max();
        return _raw.Select(v => v / max).ToArray();
    }

    /// <summary>The FDS window: the kernel divided by its sum (sum 1), length <see cref="Size"/>.</summary>
    public double[] SumNormalized()
    {
        double sum = _raw.Sum();
        return _raw.Select(v => v / sum).ToArray();
    }

    /// <inheritdoc />
    public override string ToString() => Shape == KernelShape.Triangular ? $"{Shape}(size {Size})" : $"{Shape}(size {Size}, sigma {Sigma})";

    private double[] Raw()
    {
        int half = (Size - 1) / 2;
        return Shape switch
        {
            KernelShape.Gaussian => GaussianFilteredImpulse(),
            KernelShape.Triangular => Enumerable.Range(0, Size).Select(i => 1.0 - Math.Abs(i - half) / (half + 1.0)).ToArray(),
            _ => Enumerable.Range(-half, Size).Select(x => Math.Exp(-Math.Abs(x) / Sigma) / (2 * Sigma)).ToArray(),
        };
    }

    /// <summary>
    /// gaussian_filter1d of a unit impulse at the center of a length-Size signal: correlation with the sum-normalized
    /// Gaussian of radius floor(4 sigma + 0.5), the signal extended by half-sample symmetric reflection (d c b a | a b c d | d c b a).
    /// Output i collects the weights w_k of the offsets k that reflect i + k onto the center; the reflection has period
    /// 2 Size, so those offsets are two arithmetic progressions and the work is O(Size + radius), not O(Size * radius).
    /// </summary>
    private double[] GaussianFilteredImpulse()
    {
        long radius = (long)((GaussianTruncate * Sigma) + 0.5);
        double total = 0;
        for (long x = -radius; x <= radius; x++)
        {
            total += Weight(x);
        }

        int center = (Size - 1) / 2;
        long period = 2L * Size;
        var output = new double[Size];
        for (int i = 0; i < Size; i++)
        {
            // Offsets k with i + k = center or i + k = period - 1 - center, modulo the period (two distinct residues).
            foreach (long start in new[] { center - i, period - 1 - center - i })
            {
                long lowest = start - (long)Math.Floor((double)(start + radius) / period) * period;
                for (long k = lowest; k <= radius; k += period)
                {
                    output[i] += Weight(k) / total;
                }
            }
        }

        return output;
    }

    private double Weight(long x) => Math.Exp(-0.5 * x * x / (Sigma * Sigma));
}
