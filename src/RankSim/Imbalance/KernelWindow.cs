namespace RankSim;

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
/// ICML 2021, Sec. 3.1 and 3.2). LDS uses it max-normalised (peak 1), FDS sum-normalised (sum 1).
/// </summary>
public sealed class KernelWindow
{
    /// <summary>The largest kernel size (10,001 bins).</summary>
    public const int MaxSize = 10_001;

    private const double GaussianTruncate = 4.0;

    /// <summary>Creates a window.</summary>
    /// <param name="shape">Kernel shape (default Gaussian, as in the DIR paper).</param>
    /// <param name="size">Odd number of bins the window spans (default 5).</param>
    /// <param name="sigma">Width in bins, &gt; 0 (default 2); not used by <see cref="KernelShape.Triangular"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An even, non-positive or too large (over <see cref="MaxSize"/>) size, or sigma not finite and positive.</exception>
    public KernelWindow(KernelShape shape = KernelShape.Gaussian, int size = 5, double sigma = 2.0)
    {
        InputValidation.RequireDefined(shape, nameof(shape));

        if (size < 1 || size % 2 == 0 || size > MaxSize)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"The kernel size must be a positive odd number, at most {MaxSize}.");
        }

        if (!double.IsFinite(sigma) || sigma <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "The kernel width sigma must be a finite number greater than 0.");
        }

        Shape = shape;
        Size = size;
        Sigma = sigma;
    }

    /// <summary>Kernel shape.</summary>
    public KernelShape Shape { get; }

    /// <summary>Odd window length in bins.</summary>
    public int Size { get; }

    /// <summary>Kernel width in bins.</summary>
    public double Sigma { get; }

    /// <summary>The LDS window: the kernel divided by its maximum (peak 1), length <see cref="Size"/>.</summary>
    public double[] MaxNormalised()
    {
        var raw = Raw();
        double max = raw.Max();
        return raw.Select(v => v / max).ToArray();
    }

    /// <summary>The FDS window: the kernel divided by its sum (sum 1), length <see cref="Size"/>.</summary>
    public double[] SumNormalised()
    {
        var raw = Raw();
        double sum = raw.Sum();
        return raw.Select(v => v / sum).ToArray();
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
    /// gaussian_filter1d of a unit impulse at the centre of a length-Size signal: correlation with the sum-normalised
    /// Gaussian of radius floor(4 sigma + 0.5), the signal extended by half-sample symmetric reflection (d c b a | a b c d | d c b a).
    /// </summary>
    private double[] GaussianFilteredImpulse()
    {
        int radius = (int)(GaussianTruncate * Sigma + 0.5);
        var weights = Enumerable.Range(-radius, 2 * radius + 1).Select(x => Math.Exp(-0.5 * x * x / (Sigma * Sigma))).ToArray();
        double total = weights.Sum();
        int centre = (Size - 1) / 2;
        var output = new double[Size];
        for (int i = 0; i < Size; i++)
        {
            for (int k = -radius; k <= radius; k++)
            {
                if (Reflect(i + k, Size) == centre)
                {
                    output[i] += weights[k + radius] / total;
                }
            }
        }

        return output;
    }

    private static int Reflect(int index, int length)
    {
        int period = 2 * length;
        int m = ((index % period) + period) % period;
        return m < length ? m : period - 1 - m;
    }
}
