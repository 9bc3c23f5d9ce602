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

    /// <summary>
    /// LDS-smoothed weights of long-tailed integer labels (floor(exp(u)), u in [0, 4)) under any kernel shape, odd size and
    /// sigma are finite, positive and average 1 over the training labels.
    /// </summary>
    [Property(MaxTest = 200)]
    public bool LdsWeightsArePositiveAndAverageOne(byte[] draws, bool laplace, byte halfSize, byte sigmaTenths, bool inverse)
    {
        if (draws.Length == 0)
        {
            return true;
        }

        using var scope = NewDisposeScope();
        var labels = draws.Select(d => Math.Floor(Math.Exp(4.0 * d / 256))).ToArray();
        var kernel = new KernelWindow(laplace ? KernelShape.Laplace : KernelShape.Gaussian, 2 * (halfSize % 5) + 1, 0.3 + sigmaTenths % 38 / 10.0);
        var weights = LabelDistribution.FromValues(labels).Reweight(inverse ? Reweighting.Inverse : Reweighting.SqrtInverse, kernel)
            .Lookup(tensor(labels)).Doubles();
        return weights.All(w => double.IsFinite(w) && w > 0) && Math.Abs(weights.Average() - 1) < 1e-6;
    }

    /// <summary>A perfect prediction has zero error in every shot group, and the groups partition the samples.</summary>
    [Property(MaxTest = 200)]
    public bool APerfectPredictionHasZeroErrorEverywhere(byte[] training, short[] evaluated, byte many, byte few)
    {
        if (training.Length == 0 || evaluated.Length == 0)
        {
            return true;
        }

        using var scope = NewDisposeScope();
        var split = new ShotSplit(LabelDistribution.FromValues(training.Select(t => (double)(t % 30)).ToArray()), 5 + many % 46, few % 5);
        var evaluator = new DirEvaluator(split);
        var labels = tensor(evaluated.Select(e => e / 1000.0).ToArray());
        evaluator.Add(labels, labels);
        var report = evaluator.Compute();
        bool zero = new[] { report.All, report.Many, report.Medium, report.Few }.Where(m => m.Count > 0)
            .All(m => m.Mae == 0 && m.Mse == 0 && m.BalancedMae == 0);
        return zero && report.Many.Count + report.Medium.Count + report.Few.Count == report.All.Count && report.All.Count == evaluated.Length;
    }

    /// <summary>
    /// FDS is the identity in eval mode; in training mode it maps each bin's samples from the bin's statistics onto the
    /// smoothed ones (for bins with at least two samples), in float64 to 1e-9.
    /// </summary>
    [Property(MaxTest = 50)]
    public bool FdsIsTheIdentityInEvalModeAndCalibratesBinsOntoTheSmoothedStatistics(byte binDraw, byte dimDraw, int seed)
    {
        using var scope = NewDisposeScope();
        int bins = 3 + binDraw % 9, dim = 1 + dimDraw % 7;
        var fds = new FeatureDistributionSmoothing(dim, LabelBinning.Integers(0, bins - 1), new KernelWindow(size: 3, sigma: 1),
            clampMin: 1e-6, clampMax: 1e6, dtype: ScalarType.Float64);
        var labels = randint(0, bins, 400, generator: new Generator((ulong)(uint)seed));
        var features = randn(400, dim, dtype: ScalarType.Float64, generator: new Generator((ulong)(uint)seed + 1000)) * (labels.unsqueeze(1) + 1);
        fds.UpdateStatistics(features, labels);
        fds.EndEpoch();

        fds.eval();
        if (!fds.call(features, labels).Doubles().SequenceEqual(features.Doubles()))
        {
            return false;
        }

        fds.train();
        var calibrated = fds.call(features, labels);
        for (int b = 0; b < bins; b++)
        {
            var members = labels.eq(b).nonzero().squeeze(1);
            if (members.shape[0] < 2)
            {
                continue;
            }

            var binFeatures = calibrated.index_select(0, members);
            bool mean = binFeatures.mean([0]).Doubles().Zip(fds.SmoothedMean[b].Doubles()).All(p => Math.Abs(p.First - p.Second) <= 1e-9);
            bool variance = binFeatures.var(0).Doubles().Zip(fds.SmoothedVariance[b].Doubles()).All(p => Math.Abs(p.First - p.Second) <= 1e-9 * Math.Max(1, Math.Abs(p.Second)));
            if (!mean || !variance)
            {
                return false;
            }
        }

        return true;
    }
}
