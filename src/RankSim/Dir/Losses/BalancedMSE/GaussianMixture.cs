using static TorchSharp.torch;

namespace RankSim.Dir;

/// <summary>
/// A one-dimensional Gaussian mixture sum_k w_k N(mean_k, var_k): the label prior of <see cref="GAILoss"/>.
/// <see cref="Fit"/> estimates it from training labels by expectation-maximization.
/// </summary>
public sealed class GaussianMixture
{
    /// <summary>Creates a mixture from its parameters.</summary>
    /// <param name="means">Component means (K &gt;= 1, finite).</param>
    /// <param name="variances">Component variances (K, finite, &gt; 0).</param>
    /// <param name="weights">Component weights (K, &gt; 0, summing to 1 within 1e-6).</param>
    /// <exception cref="ArgumentException">Lengths differ, or a value is out of range.</exception>
    public GaussianMixture(IReadOnlyList<double> means, IReadOnlyList<double> variances, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(variances);
        ArgumentNullException.ThrowIfNull(weights);
        if (means.Count == 0 || variances.Count != means.Count || weights.Count != means.Count)
        {
            throw new ArgumentException($"means, variances and weights must have the same length K >= 1; got {means.Count}, {variances.Count}, {weights.Count}.", nameof(means));
        }

        if (means.Any(m => !double.IsFinite(m)))
        {
            throw new ArgumentException("Component means must be finite.", nameof(means));
        }

        if (variances.Any(v => !double.IsFinite(v) || v <= 0))
        {
            throw new ArgumentException("Component variances must be finite and greater than 0.", nameof(variances));
        }

        if (weights.Any(w => !double.IsFinite(w) || w <= 0) || Math.Abs(weights.Sum() - 1) > 1e-6)
        {
            throw new ArgumentException("Component weights must be positive and sum to 1.", nameof(weights));
        }

        Means = means.ToArray();
        Variances = variances.ToArray();
        Weights = weights.ToArray();
    }

    /// <summary>Component means.</summary>
    public IReadOnlyList<double> Means { get; }

    /// <summary>Component variances.</summary>
    public IReadOnlyList<double> Variances { get; }

    /// <summary>Component weights (sum 1).</summary>
    public IReadOnlyList<double> Weights { get; }

    /// <summary>Number of components K.</summary>
    public int Count => Means.Count;

    /// <summary>Log-likelihood log sum_k w_k N(x; mean_k, var_k) of one value under the mixture (computed by log-sum-exp, finite far in the tails).</summary>
    public double LogDensity(double x)
    {
        var terms = Enumerable.Range(0, Count).Select(k => Math.Log(Weights[k]) + LogNormal(x, Means[k], Variances[k])).ToArray();
        return LogSumExp(terms);
    }

    /// <summary>Fits K components to training labels by expectation-maximization (on the host).</summary>
    /// <param name="labels">Training labels (any shape and device; copied to the host).</param>
    /// <param name="components">K &gt;= 1 (default 8), at most the number of labels.</param>
    /// <param name="maxIterations">EM iterations at most (default 200).</param>
    /// <param name="tolerance">Stop when the mean log-likelihood improves by less than this (default 1e-8).</param>
    /// <exception cref="ArgumentException">Empty or non-finite labels, or options out of range.</exception>
    public static GaussianMixture Fit(Tensor labels, int components = 8, int maxIterations = 200, double tolerance = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return FitValues(LabelValues.ToDoubles(labels, nameof(labels)), components, maxIterations, tolerance);
    }

    /// <summary>Fits K components to training label values held on the host, by expectation-maximization.</summary>
    /// <param name="labels">Training labels, finite, with at least K distinct values.</param>
    /// <param name="components">K &gt;= 1 (default 8), at most the number of distinct label values.</param>
    /// <param name="maxIterations">EM iterations at most (default 200).</param>
    /// <param name="tolerance">Stop when the mean log-likelihood improves by less than this (default 1e-8).</param>
    /// <remarks>
    /// The fit runs on the labels divided by their largest magnitude (the mixture is scaled back), so labels of any
    /// finite magnitude fit without overflow. Each iteration costs O(n K), with an exponential and a few floating
    /// operations per term (about 10 ns a term on one core); n K is limited to 100,000,000 (about a second an iteration),
    /// so that a fit finishes in reasonable time: for more labels, fit a random subset of them.
    /// </remarks>
    /// <exception cref="ArgumentException">Empty or non-finite labels, labels whose spread overflows float64, or options out of range.</exception>
    /// <exception cref="ArgumentOutOfRangeException">components is out of range, or labels x components exceeds 100,000,000.</exception>
    public static GaussianMixture FitValues(IReadOnlyList<double> labels, int components = 8, int maxIterations = 200, double tolerance = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0 || labels.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("labels must be non-empty and finite.", nameof(labels));
        }

        int distinct = labels.Distinct().Count();
        if (components < 1 || components > distinct)
        {
            throw new ArgumentOutOfRangeException(
                nameof(components), components, $"components must lie in [1, {distinct}]: the labels hold {distinct} distinct values, and each component needs one of its own.");
        }

        if ((long)labels.Count * components > MaxTermsPerIteration)
        {
            throw new ArgumentOutOfRangeException(
                nameof(components), components,
                $"{labels.Count:N0} labels x {components:N0} components is {(long)labels.Count * components:N0} terms an EM iteration; at most {MaxTermsPerIteration:N0} are allowed (about a second an iteration). Use fewer components or fit a random subset of the labels.");
        }

        if (maxIterations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, "maxIterations must be at least 1.");
        }

        if (!double.IsFinite(tolerance) || tolerance < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "tolerance must be a finite number of at least 0.");
        }

        double scale = labels.Max(Math.Abs);
        scale = scale > 0 ? scale : 1;
        var (means, variances, weights) = FitScaled(labels.Select(v => v / scale).ToArray(), components, maxIterations, tolerance);
        var scaledVariances = variances.Select(v => v * scale * scale).ToArray();
        if (scaledVariances.Any(v => !double.IsFinite(v) || v <= 0))
        {
            throw new ArgumentException(
                $"labels spread over {labels.Min():G3} .. {labels.Max():G3}: the mixture's variances overflow or underflow float64 at that scale; rescale the labels first.", nameof(labels));
        }

        return new GaussianMixture(means.Select(m => m * scale).ToArray(), scaledVariances, weights);
    }

    /// <summary>The most labels x components one EM iteration may take (about a second of work).</summary>
    private const long MaxTermsPerIteration = 100_000_000;

    /// <summary>EM on labels in [-1, 1]: means, variances and weights of K components.</summary>
    private static (double[] Means, double[] Variances, double[] Weights) FitScaled(double[] x, int components, int maxIterations, double tolerance)
    {
        int n = x.Length;
        double mean = x.Average();
        double totalVariance = Math.Max(x.Select(v => (v - mean) * (v - mean)).Average(), 1e-12);
        double floor = (1e-6 * totalVariance) + 1e-15;

        // Deterministic start: means at the quantiles (k + 0.5) / K of the distinct values, the overall variance, equal weights.
        var sorted = x.Distinct().OrderBy(v => v).ToArray();
        var means = Enumerable.Range(0, components).Select(k => sorted[(int)((k + 0.5) / components * sorted.Length)]).ToArray();
        var variances = Enumerable.Repeat(totalVariance, components).ToArray();
        var weights = Enumerable.Repeat(1.0 / components, components).ToArray();
        var logWeights = new double[components];
        var logNormalizers = new double[components];
        var inverseVariances = new double[components];
        var counts = new double[components];
        var sums = new double[components];
        var squares = new double[components];
        var terms = new double[components];
        double previous = double.NegativeInfinity;
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            for (int k = 0; k < components; k++)
            {
                logWeights[k] = Math.Log(weights[k]);
                logNormalizers[k] = -0.5 * Math.Log(2 * Math.PI * variances[k]);
                inverseVariances[k] = 1 / variances[k];
            }

            // E-step and the sufficient statistics of the M-step in one pass over the samples.
            Array.Clear(counts);
            Array.Clear(sums);
            Array.Clear(squares);
            double logLikelihood = 0;
            for (int i = 0; i < n; i++)
            {
                double largest = double.NegativeInfinity;
                for (int k = 0; k < components; k++)
                {
                    double d = x[i] - means[k];
                    terms[k] = logWeights[k] + logNormalizers[k] - (0.5 * d * d * inverseVariances[k]);
                    largest = Math.Max(largest, terms[k]);
                }

                double total = 0;
                for (int k = 0; k < components; k++)
                {
                    // Terms more than 745 below the largest are 0 in float64: skip their exponential.
                    terms[k] = terms[k] - largest > -745 ? Math.Exp(terms[k] - largest) : 0;
                    total += terms[k];
                }

                logLikelihood += largest + Math.Log(total);
                for (int k = 0; k < components; k++)
                {
                    double responsibility = terms[k] / total;
                    counts[k] += responsibility;
                    sums[k] += responsibility * x[i];
                    squares[k] += responsibility * x[i] * x[i];
                }
            }

            for (int k = 0; k < components; k++)
            {
                double nk = Math.Max(counts[k], 1e-12);
                means[k] = sums[k] / nk;
                variances[k] = Math.Max((squares[k] / nk) - (means[k] * means[k]), 0) + floor;
                weights[k] = nk / n;
            }

            double sum = weights.Sum();
            for (int k = 0; k < components; k++)
            {
                weights[k] /= sum;
            }

            logLikelihood /= n;
            if (logLikelihood - previous < tolerance)
            {
                break;
            }

            previous = logLikelihood;
        }

        return (means, variances, weights);
    }

    private static double LogNormal(double x, double mean, double variance) =>
        -0.5 * (Math.Log(2 * Math.PI * variance) + (x - mean) * (x - mean) / variance);

    private static double LogSumExp(double[] terms)
    {
        double max = terms.Max();
        if (double.IsNegativeInfinity(max))
        {
            // Every term underflowed (x far from every component): the density is 0.
            return max;
        }

        return max + Math.Log(terms.Sum(t => Math.Exp(t - max)));
    }
}
