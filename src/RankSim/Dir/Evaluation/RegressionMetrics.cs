namespace RankSim.Dir;

/// <summary>
/// Regression metrics of one group of test samples. An empty group has <see cref="Count"/> 0 and NaN everywhere else;
/// correlations are NaN for fewer than two samples or a constant side. Built with named properties (not positional), so
/// that metrics can be added without breaking callers.
/// </summary>
public sealed record RegressionMetrics
{
    /// <summary>Number of samples.</summary>
    public required long Count { get; init; }

    /// <summary>Mean absolute error, in label units.</summary>
    public required double Mae { get; init; }

    /// <summary>Mean squared error, in squared label units; +infinity when it exceeds float64 (errors beyond about 1e154).</summary>
    public required double Mse { get; init; }

    /// <summary>Root mean squared error, in label units.</summary>
    public required double Rmse { get; init; }

    /// <summary>Geometric mean of the absolute errors, exp(mean(log(|e| + epsilon))), in label units.</summary>
    public required double GeometricMean { get; init; }

    /// <summary>Pearson correlation of predictions and labels.</summary>
    public required double Pearson { get; init; }

    /// <summary>Spearman correlation (Pearson of average ranks).</summary>
    public required double Spearman { get; init; }

    /// <summary>Mean over label bins (with samples) of the per-bin MAE.</summary>
    public required double BalancedMae { get; init; }

    /// <summary>Mean over label bins (with samples) of the per-bin MSE.</summary>
    public required double BalancedMse { get; init; }

    /// <summary>The metrics of an empty group.</summary>
    public static RegressionMetrics Empty { get; } = new()
    {
        Count = 0,
        Mae = double.NaN,
        Mse = double.NaN,
        Rmse = double.NaN,
        GeometricMean = double.NaN,
        Pearson = double.NaN,
        Spearman = double.NaN,
        BalancedMae = double.NaN,
        BalancedMse = double.NaN,
    };

    /// <summary>Computes the metrics of paired predictions and labels.</summary>
    /// <param name="predictions">Predictions.</param>
    /// <param name="labels">Labels, as many as predictions.</param>
    /// <param name="bins">Label bin of each sample, for the balanced metrics.</param>
    /// <param name="geometricMeanEpsilon">Added to |e| before the logarithm so that an exact hit does not zero the geometric mean.</param>
    internal static RegressionMetrics Compute(IReadOnlyList<double> predictions, IReadOnlyList<double> labels, IReadOnlyList<int> bins, double geometricMeanEpsilon)
    {
        int n = predictions.Count;
        if (n == 0)
        {
            return Empty;
        }

        // Errors are taken at a power-of-two scale s (exact) when values are large enough for e or e^2 to overflow: MAE,
        // RMSE and the geometric mean stay finite; MSE is +infinity only when its true value exceeds float64 (RMSE > 1e154).
        double largest = Math.Max(predictions.Max(Math.Abs), labels.Max(Math.Abs));
        double s = largest > 1e150 ? Math.ScaleB(1, Math.ILogB(largest)) : 1;
        var errors = Enumerable.Range(0, n).Select(i => predictions[i] / s - labels[i] / s).ToArray();
        double mae = errors.Average(Math.Abs) * s;
        double meanSquare = errors.Average(e => e * e);
        double gm = Math.Exp(errors.Average(e => Math.Log(Math.Abs(e) + geometricMeanEpsilon / s)) + Math.Log(s));
        var perBin = Enumerable.Range(0, n).GroupBy(i => bins[i]).ToList();
        double balancedMae = perBin.Average(g => g.Average(i => Math.Abs(errors[i]))) * s;
        double balancedMse = perBin.Average(g => g.Average(i => errors[i] * errors[i])) * s * s;
        return new RegressionMetrics
        {
            Count = n,
            Mae = mae,
            Mse = meanSquare * s * s,
            Rmse = Math.Sqrt(meanSquare) * s,
            GeometricMean = gm,
            Pearson = Correlation(predictions, labels),
            Spearman = Correlation(AverageRanks(predictions), AverageRanks(labels)),
            BalancedMae = balancedMae,
            BalancedMse = balancedMse,
        };
    }

    private static double Correlation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        int n = x.Count;
        if (n < 2)
        {
            return double.NaN;
        }

        // Correlation is scale-free: dividing each side by its largest magnitude first keeps every sum finite (values
        // near 1e200 would otherwise overflow the squares).
        x = Scaled(x);
        y = Scaled(y);
        double mx = x.Average(), my = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }

        return sxx > 0 && syy > 0 ? sxy / Math.Sqrt(sxx * syy) : double.NaN;
    }

    private static double[] Scaled(IReadOnlyList<double> values)
    {
        double largest = values.Max(Math.Abs);
        return largest > 0 ? values.Select(v => v / largest).ToArray() : values.ToArray();
    }

    /// <summary>1-based ranks, ties sharing their mean rank.</summary>
    private static double[] AverageRanks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }

            for (int k = start; k <= end; k++)
            {
                ranks[order[k]] = (start + end) / 2.0 + 1;
            }

            start = end + 1;
        }

        return ranks;
    }
}
