using static TorchSharp.torch;

namespace RankSim.Dir;

/// <summary>
/// The standard DIR evaluation (DIR, ICML 2021, Sec. 6): accumulates predictions and labels batch by batch (from any device)
/// and reports the metrics overall and for the many-, medium- and few-shot label groups of a <see cref="ShotSplit"/>.
/// </summary>
public sealed class DirEvaluator
{
    private readonly List<double> _predictions = [];
    private readonly List<double> _labels = [];
    private readonly List<int> _bins = [];

    /// <summary>Creates an empty evaluator.</summary>
    /// <param name="split">The shot split from the training label distribution.</param>
    /// <param name="geometricMeanEpsilon">Added to |e| in the geometric mean so an exact hit does not zero it (default 1e-8).</param>
    /// <exception cref="ArgumentOutOfRangeException">The epsilon is not finite and positive.</exception>
    public DirEvaluator(ShotSplit split, double geometricMeanEpsilon = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (!double.IsFinite(geometricMeanEpsilon) || geometricMeanEpsilon <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(geometricMeanEpsilon), geometricMeanEpsilon, "The epsilon must be a finite number greater than 0.");
        }

        Split = split;
        GeometricMeanEpsilon = geometricMeanEpsilon;
    }

    /// <summary>The shot split.</summary>
    public ShotSplit Split { get; }

    /// <summary>Epsilon of the geometric mean.</summary>
    public double GeometricMeanEpsilon { get; }

    /// <summary>Number of samples accumulated.</summary>
    public int Count => _predictions.Count;

    /// <summary>Adds a batch (copied to the host).</summary>
    /// <param name="predictions">Predictions [B] or [B, 1].</param>
    /// <param name="labels">Labels [B] or [B, 1], integer or floating.</param>
    /// <exception cref="ArgumentException">Sizes that differ, non-real values, or NaN/infinite values.</exception>
    public void Add(Tensor predictions, Tensor labels)
    {
        InputValidation.RequireLive(predictions, nameof(predictions));
        InputValidation.RequireLive(labels, nameof(labels));
        if (predictions.dim() > 2 || (predictions.dim() == 2 && predictions.size(1) != 1))
        {
            throw new ArgumentException($"predictions must be [B] or [B, 1]; got {InputValidation.Shape(predictions)}.", nameof(predictions));
        }

        if (labels.numel() != predictions.numel() || labels.dim() > 2)
        {
            throw new ArgumentException(
                $"labels must hold one value per prediction ({predictions.numel()}); got {InputValidation.Shape(labels)}.", nameof(labels));
        }

        if (predictions.numel() == 0)
        {
            return;
        }

        var p = LabelValues.ToDoubles(predictions, nameof(predictions));
        var y = LabelValues.ToDoubles(labels, nameof(labels));
        // Bins in the labels' own precision, as LabelDistribution computed the training histogram.
        using var scope = NewDisposeScope();
        var bins = Split.Training.Binning.BinIndex(labels).reshape(-1).cpu().data<long>().ToArray();
        _predictions.AddRange(p);
        _labels.AddRange(y);
        _bins.AddRange(bins.Select(b => (int)b));
    }

    /// <summary>Forgets all accumulated samples.</summary>
    public void Reset()
    {
        _predictions.Clear();
        _labels.Clear();
        _bins.Clear();
    }

    /// <summary>Metrics overall and per shot group of everything accumulated so far.</summary>
    public DirReport Compute()
    {
        var bins = _bins;
        var groups = bins.Select(b => Split.BinGroups[b]).ToArray();
        RegressionMetrics Of(Func<int, bool> keep)
        {
            var index = Enumerable.Range(0, _labels.Count).Where(keep).ToArray();
            return RegressionMetrics.Compute(
                index.Select(i => _predictions[i]).ToArray(), index.Select(i => _labels[i]).ToArray(), index.Select(i => bins[i]).ToArray(), GeometricMeanEpsilon);
        }

        return new DirReport
        {
            All = Of(_ => true),
            Many = Of(i => groups[i] == ShotGroup.Many),
            Medium = Of(i => groups[i] == ShotGroup.Medium),
            Few = Of(i => groups[i] == ShotGroup.Few),
        };
    }
}
