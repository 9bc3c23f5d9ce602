using System.Globalization;
using System.Text;

namespace RankSim.Dir;

/// <summary>
/// The DIR evaluation result: metrics overall and for the many-, medium- and few-shot groups. Built with named
/// properties (not positional), so that groups or fields can be added without breaking callers.
/// </summary>
public sealed record DirReport
{
    /// <summary>All test samples.</summary>
    public required RegressionMetrics All { get; init; }

    /// <summary>Samples whose label bin is many-shot.</summary>
    public required RegressionMetrics Many { get; init; }

    /// <summary>Samples whose label bin is medium-shot.</summary>
    public required RegressionMetrics Medium { get; init; }

    /// <summary>Samples whose label bin is few-shot.</summary>
    public required RegressionMetrics Few { get; init; }

    /// <summary>The metrics of one group.</summary>
    public RegressionMetrics this[ShotGroup group] => group switch
    {
        ShotGroup.Many => Many,
        ShotGroup.Medium => Medium,
        ShotGroup.Few => Few,
        _ => throw new ArgumentOutOfRangeException(nameof(group), group, "Unknown shot group."),
    };

    /// <summary>A plain-text table with rows All/Many/Medium/Few and columns count, MAE, MSE, RMSE, GM, Pearson, Spearman, bMAE.</summary>
    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine(string.Format(CultureInfo.InvariantCulture, "{0,-8}{1,8}{2,10}{3,10}{4,10}{5,10}{6,10}{7,10}{8,10}", "Shot", "Count", "MAE", "MSE", "RMSE", "GM", "Pearson", "Spearman", "bMAE"));
        foreach (var (name, metrics) in new[] { ("All", All), ("Many", Many), ("Medium", Medium), ("Few", Few) })
        {
            text.AppendLine(string.Format(
                CultureInfo.InvariantCulture,
                "{0,-8}{1,8}{2,10:F3}{3,10:F3}{4,10:F3}{5,10:F3}{6,10:F3}{7,10:F3}{8,10:F3}",
                name,
                metrics.Count,
                metrics.Mae,
                metrics.Mse,
                metrics.Rmse,
                metrics.GeometricMean,
                metrics.Pearson,
                metrics.Spearman,
                metrics.BalancedMae));
        }

        return text.ToString();
    }
}
