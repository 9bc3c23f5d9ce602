namespace RankSim.Dir;

/// <summary>
/// The paired comparison of two training recipes run on the same seeds (same split, initialization and batch order):
/// per seed the difference d_s = treatment_s - baseline_s of a metric, then its mean, standard deviation (n - 1),
/// standard error sd / sqrt(n), and how many seeds came out lower, higher or equal. For an error metric (MAE, MSE) a
/// negative mean difference and more <see cref="Lower"/> seeds favour the treatment. Pairing removes the seed-to-seed
/// variation both recipes share, which is usually most of it.
/// </summary>
public sealed record PairedComparison
{
    /// <summary>Number of paired seeds n.</summary>
    public required int Count { get; init; }

    /// <summary>Mean of treatment - baseline over the seeds.</summary>
    public required double MeanDifference { get; init; }

    /// <summary>Sample standard deviation (n - 1) of the differences; NaN for one seed.</summary>
    public required double StandardDeviation { get; init; }

    /// <summary>Standard error of the mean difference, sd / sqrt(n); NaN for one seed.</summary>
    public required double StandardError { get; init; }

    /// <summary>Seeds where the treatment's value is lower than the baseline's.</summary>
    public required int Lower { get; init; }

    /// <summary>Seeds where the treatment's value is higher than the baseline's.</summary>
    public required int Higher { get; init; }

    /// <summary>Seeds where both are equal.</summary>
    public int Equal => Count - Lower - Higher;

    /// <summary>
    /// The mean difference in standard errors (a paired t statistic with n - 1 degrees of freedom); +-infinity when every
    /// difference is the same non-zero value, NaN for one seed or when all differences are zero.
    /// </summary>
    public double StandardErrors => MeanDifference / StandardError;

    /// <summary>Compares per-seed values of a metric; element s of both lists belongs to seed s.</summary>
    /// <param name="treatment">The treatment's value on each seed (e.g. test MAE with RankSim).</param>
    /// <param name="baseline">The baseline's value on the same seeds, in the same order.</param>
    /// <exception cref="ArgumentException">The lists are empty, differ in length, or hold NaN or infinite values.</exception>
    public static PairedComparison Of(IReadOnlyList<double> treatment, IReadOnlyList<double> baseline)
    {
        ArgumentNullException.ThrowIfNull(treatment);
        ArgumentNullException.ThrowIfNull(baseline);
        if (treatment.Count == 0 || treatment.Count != baseline.Count)
        {
            throw new ArgumentException(
                $"treatment and baseline must hold one value per seed each, at least one; got {treatment.Count} and {baseline.Count}.", nameof(baseline));
        }

        for (int s = 0; s < treatment.Count; s++)
        {
            if (!double.IsFinite(treatment[s]) || !double.IsFinite(baseline[s]))
            {
                throw new ArgumentException(
                    $"Seed {s}: treatment {treatment[s]} and baseline {baseline[s]} must both be finite.", double.IsFinite(treatment[s]) ? nameof(baseline) : nameof(treatment));
            }
        }

        // Differences of finite doubles can overflow: take them at a common power-of-two scale (exact), as the metrics do.
        double largest = Math.Max(treatment.Max(Math.Abs), baseline.Max(Math.Abs));
        double scale = largest > 1 ? Math.ScaleB(1, Math.ILogB(largest)) : 1;
        var differences = treatment.Zip(baseline, (t, b) => t / scale - b / scale).ToArray();
        int n = differences.Length;
        double mean = differences.Average();
        double sd = n > 1 ? Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (n - 1)) : double.NaN;
        return new PairedComparison
        {
            Count = n,
            MeanDifference = mean * scale,
            StandardDeviation = sd * scale,
            StandardError = sd * scale / Math.Sqrt(n),
            Lower = treatment.Zip(baseline).Count(p => p.First < p.Second),
            Higher = treatment.Zip(baseline).Count(p => p.First > p.Second),
        };
    }

    /// <summary>
    /// The paired comparison of one metric of two recipes' DIR reports, per shot group: element s of both lists is the
    /// report of seed s. A group is compared over the seeds where both reports have samples in it (a group can be empty
    /// in a small test set); a group empty on every seed gives null.
    /// </summary>
    /// <param name="treatment">Reports of the treatment, one per seed.</param>
    /// <param name="baseline">Reports of the baseline on the same seeds.</param>
    /// <param name="metric">The metric to compare (default: MAE).</param>
    /// <exception cref="ArgumentException">The lists are empty or differ in length, or the metric is NaN or infinite for a non-empty group.</exception>
    public static IReadOnlyDictionary<string, PairedComparison?> OfReports(
        IReadOnlyList<DirReport> treatment, IReadOnlyList<DirReport> baseline, Func<RegressionMetrics, double>? metric = null)
    {
        ArgumentNullException.ThrowIfNull(treatment);
        ArgumentNullException.ThrowIfNull(baseline);
        if (treatment.Count == 0 || treatment.Count != baseline.Count)
        {
            throw new ArgumentException(
                $"treatment and baseline must hold one report per seed each, at least one; got {treatment.Count} and {baseline.Count}.", nameof(baseline));
        }

        metric ??= m => m.Mae;
        var groups = new (string Name, Func<DirReport, RegressionMetrics> Pick)[]
        {
            ("All", r => r.All), ("Many", r => r.Many), ("Medium", r => r.Medium), ("Few", r => r.Few),
        };
        var result = new Dictionary<string, PairedComparison?>();
        foreach (var (name, pick) in groups)
        {
            var pairs = treatment.Zip(baseline).Where(p => pick(p.First).Count > 0 && pick(p.Second).Count > 0).ToList();
            result[name] = pairs.Count == 0 ? null : Of([.. pairs.Select(p => metric(pick(p.First)))], [.. pairs.Select(p => metric(pick(p.Second)))]);
        }

        return result;
    }
}
