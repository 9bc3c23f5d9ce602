namespace RankSim;

/// <summary>
/// Regression metrics of one group of test samples. An empty group has <see cref="Count"/> 0 and NaN everywhere else;
/// correlations are NaN for fewer than two samples or a constant side.
/// </summary>
/// <param name="Count">Number of samples.</param>
/// <param name="Mae">Mean absolute error.</param>
/// <param name="Mse">Mean squared error.</param>
/// <param name="Rmse">Root mean squared error.</param>
/// <param name="GeometricMean">Geometric mean of the absolute errors, exp(mean(log(|e| + epsilon))).</param>
/// <param name="Pearson">Pearson correlation of predictions and labels.</param>
/// <param name="Spearman">Spearman correlation (Pearson of average ranks).</param>
/// <param name="BalancedMae">Mean over label bins (with samples) of the per-bin MAE.</param>
/// <param name="BalancedMse">Mean over label bins (with samples) of the per-bin MSE.</param>
public sealed record RegressionMetrics(
    long Count,
    double Mae,
    double Mse,
    double Rmse,
    double GeometricMean,
    double Pearson,
    double Spearman,
    double BalancedMae,
    double BalancedMse)
{
    /// <summary>The metrics of an empty group.</summary>
    public static RegressionMetrics Empty { get; } = new(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);

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

        var errors = Enumerable.Range(0, n).Select(i => predictions[i] - labels[i]).ToArray();
        double mae = errors.Average(Math.Abs);
        double mse = errors.Average(e => e * e);
        double gm = Math.Exp(errors.Average(e => Math.Log(Math.Abs(e) + geometricMeanEpsilon)));
        var perBin = Enumerable.Range(0, n).GroupBy(i => bins[i]).ToList();
        double balancedMae = perBin.Average(g => g.Average(i => Math.Abs(errors[i])));
        double balancedMse = perBin.Average(g => g.Average(i => errors[i] * errors[i]));
        return new RegressionMetrics(
            n, mae, mse, Math.Sqrt(mse), gm, Correlation(predictions, labels), Correlation(AverageRanks(predictions), AverageRanks(labels)), balancedMae, balancedMse);
    }

    private static double Correlation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        int n = x.Count;
        if (n < 2)
        {
            return double.NaN;
        }

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
