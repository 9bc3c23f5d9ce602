namespace RankSim.Dir;

/// <summary>The DIR shot groups of label bins, by their number of training samples.</summary>
public enum ShotGroup
{
    /// <summary>More than the many-shot threshold (default 100) training samples.</summary>
    Many,

    /// <summary>Between the two thresholds.</summary>
    Medium,

    /// <summary>Fewer than the few-shot threshold (default 20) training samples, including bins with none.</summary>
    Few,
}

/// <summary>
/// Assigns every label bin to many-, medium- or few-shot from the training label distribution (DIR, ICML 2021, Sec. 6):
/// many-shot &gt; 100 training samples, few-shot &lt; 20, medium-shot otherwise (thresholds configurable).
/// </summary>
public sealed class ShotSplit
{
    private readonly ShotGroup[] _groups;

    /// <summary>Creates the split.</summary>
    /// <param name="training">The training label distribution.</param>
    /// <param name="manyThreshold">A bin with more training samples than this is many-shot (default 100).</param>
    /// <param name="fewThreshold">A bin with fewer training samples than this is few-shot (default 20).</param>
    /// <exception cref="ArgumentOutOfRangeException">Negative thresholds, or few &gt; many + 1 (groups would overlap).</exception>
    public ShotSplit(LabelDistribution training, double manyThreshold = 100, double fewThreshold = 20)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (!double.IsFinite(manyThreshold) || !double.IsFinite(fewThreshold) || fewThreshold < 0 || manyThreshold < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(fewThreshold), fewThreshold, "Shot thresholds must be finite and non-negative.");
        }

        if (fewThreshold > manyThreshold + 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(fewThreshold), fewThreshold, $"The few-shot threshold ({fewThreshold}) must not exceed the many-shot threshold ({manyThreshold}) + 1.");
        }

        Training = training;
        ManyThreshold = manyThreshold;
        FewThreshold = fewThreshold;
        _groups = training.Counts.Select(c => c > manyThreshold ? ShotGroup.Many : c < fewThreshold ? ShotGroup.Few : ShotGroup.Medium).ToArray();
    }

    /// <summary>The training label distribution.</summary>
    public LabelDistribution Training { get; }

    /// <summary>Many-shot threshold (strictly more training samples).</summary>
    public double ManyThreshold { get; }

    /// <summary>Few-shot threshold (strictly fewer training samples).</summary>
    public double FewThreshold { get; }

    /// <summary>The group of each bin.</summary>
    public IReadOnlyList<ShotGroup> BinGroups => _groups;

    /// <summary>The group of a label value.</summary>
    public ShotGroup GroupOf(double label) => _groups[Training.Binning.BinIndex(label)];
}
