using FsCheck.Xunit;

namespace RankSim.Tests.Reliability;

/// <summary>
/// Toolkit properties checked by FsCheck over generated label lists (a failing case is shrunk to a small
/// counterexample). Labels are built from generated integers so that every case is valid input.
/// </summary>
public class ToolkitProperties
{
    /// <summary>STS-B-style scores k / 5 land in the same bins (and so the same counts) in float32 as in float64.</summary>
    [Property(MaxTest = 200)]
    public bool DecimalScoresBinAlikeInFloat32AndFloat64(byte[] steps)
    {
        if (steps.Length == 0)
        {
            return true;
        }

        using var scope = NewDisposeScope();
        var scores = steps.Select(s => (s % 26) / 5.0).ToArray();
        var binning = LabelBinning.FixedWidth(0, 5, 50);
        var exact = binning.BinIndex(tensor(scores)).data<long>().ToArray();
        var single = binning.BinIndex(tensor(scores).to(ScalarType.Float32)).data<long>().ToArray();
        return exact.SequenceEqual(single)
            && LabelDistribution.FromLabels(tensor(scores), binning).Counts.SequenceEqual(LabelDistribution.FromLabels(tensor(scores).to(ScalarType.Float32), binning).Counts);
    }

    /// <summary>The histogram counts every label once, in the bin the host and the tensor binning agree on.</summary>
    [Property(MaxTest = 200)]
    public bool HistogramCountsEveryLabelOnceInItsBin(int[] raw)
    {
        if (raw.Length == 0)
        {
            return true;
        }

        using var scope = NewDisposeScope();
        var labels = raw.Select(v => (double)(v % 1000)).ToArray();
        var distribution = LabelDistribution.FromLabels(tensor(labels));
        var tensorBins = distribution.Binning.BinIndex(tensor(labels)).data<long>().ToArray();
        bool agree = labels.Select(distribution.Binning.BinIndex).Select(b => (long)b).SequenceEqual(tensorBins);
        return agree && distribution.SampleCount == labels.Length && distribution.Counts.Sum() == labels.Length;
    }

    /// <summary>Re-weighting gives finite, positive per-sample weights that average 1 over the training labels, with or without LDS.</summary>
    [Property(MaxTest = 100)]
    public bool WeightsArePositiveFiniteAndAverageOne(int[] raw, bool inverse, bool smooth)
    {
        if (raw.Length == 0)
        {
            return true;
        }

        using var scope = NewDisposeScope();
        var labels = tensor(raw.Select(v => (long)Math.Abs(v % 60)).ToArray());
        var distribution = LabelDistribution.FromLabels(labels);
        var window = smooth && distribution.Binning.Count > 2 ? new KernelWindow(KernelShape.Gaussian, size: 5, sigma: 2) : null;
        var weights = distribution.Reweight(inverse ? Reweighting.Inverse : Reweighting.SqrtInverse, window).Lookup(labels).Doubles();
        return weights.All(w => double.IsFinite(w) && w > 0) && Math.Abs(weights.Average() - 1) < 1e-5;
    }
}
