using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// A one-dimensional Gaussian mixture sum_k w_k N(mean_k, var_k): the label prior of <see cref="GaiLoss"/>.
/// <see cref="Fit"/> estimates it from training labels by expectation-maximisation.
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

    /// <summary>Log-likelihood of one value under the mixture.</summary>
    public double LogDensity(double x)
    {
        var terms = Enumerable.Range(0, Count).Select(k => Math.Log(Weights[k]) + LogNormal(x, Means[k], Variances[k])).ToArray();
        return LogSumExp(terms);
    }

    /// <summary>Fits K components to training labels by expectation-maximisation (on the host).</summary>
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

    /// <summary>Fits K components to training label values held on the host, by expectation-maximisation.</summary>
    /// <param name="labels">Training labels, finite, at least K of them.</param>
    /// <param name="components">K &gt;= 1 (default 8).</param>
    /// <param name="maxIterations">EM iterations at most (default 200).</param>
    /// <param name="tolerance">Stop when the mean log-likelihood improves by less than this (default 1e-8).</param>
    /// <exception cref="ArgumentException">Empty or non-finite labels, or options out of range.</exception>
    public static GaussianMixture FitValues(IReadOnlyList<double> labels, int components = 8, int maxIterations = 200, double tolerance = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0 || labels.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("labels must be non-empty and finite.", nameof(labels));
        }

        if (components < 1 || components > labels.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(components), components, $"components must lie in [1, {labels.Count}] (the number of labels).");
        }

        if (maxIterations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, "maxIterations must be at least 1.");
        }

        var x = labels.ToArray();
        int n = x.Length;
        double mean = x.Average();
        double totalVariance = Math.Max(x.Select(v => (v - mean) * (v - mean)).Average(), 1e-6);
        double floor = 1e-6 * totalVariance + 1e-12;

        // Deterministic start: means at the quantiles (k + 0.5) / K, the overall variance, equal weights.
        var sorted = x.OrderBy(v => v).ToArray();
        var means = Enumerable.Range(0, components).Select(k => sorted[(int)((k + 0.5) / components * n)]).ToArray();
        var variances = Enumerable.Repeat(totalVariance, components).ToArray();
        var weights = Enumerable.Repeat(1.0 / components, components).ToArray();
        var responsibility = new double[n, components];
        double previous = double.NegativeInfinity;
        var logTerms = new double[components];
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            double logLikelihood = 0;
            for (int i = 0; i < n; i++)
            {
                for (int k = 0; k < components; k++)
                {
                    logTerms[k] = Math.Log(weights[k]) + LogNormal(x[i], means[k], variances[k]);
                }

                double total = LogSumExp(logTerms);
                logLikelihood += total;
                for (int k = 0; k < components; k++)
                {
                    responsibility[i, k] = Math.Exp(logTerms[k] - total);
                }
            }

            for (int k = 0; k < components; k++)
            {
                double nk = 0, sum = 0;
                for (int i = 0; i < n; i++)
                {
                    nk += responsibility[i, k];
                    sum += responsibility[i, k] * x[i];
                }

                nk = Math.Max(nk, 1e-12);
                means[k] = sum / nk;
                double squares = 0;
                for (int i = 0; i < n; i++)
                {
                    squares += responsibility[i, k] * (x[i] - means[k]) * (x[i] - means[k]);
                }

                variances[k] = squares / nk + floor;
                weights[k] = nk / n;
            }

            logLikelihood /= n;
            if (logLikelihood - previous < tolerance)
            {
                break;
            }

            previous = logLikelihood;
        }

        return new GaussianMixture(means, variances, weights);
    }

    private static double LogNormal(double x, double mean, double variance) =>
        -0.5 * (Math.Log(2 * Math.PI * variance) + (x - mean) * (x - mean) / variance);

    private static double LogSumExp(double[] terms)
    {
        double max = terms.Max();
        return max + Math.Log(terms.Sum(t => Math.Exp(t - max)));
    }
}
