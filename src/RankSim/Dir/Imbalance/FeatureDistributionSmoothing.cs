using TorchSharp;
using static TorchSharp.torch;

namespace RankSim.Dir;

/// <summary>
/// Feature distribution smoothing (FDS; Yang et al., "Delving into Deep Imbalanced Regression", ICML 2021, Sec. 3.2 and
/// Eq. 3-4): per-bin running statistics of the features, smoothed across neighbouring bins at every epoch end, and a
/// calibration that moves each training sample's features from its bin's statistics onto the smoothed ones.
/// Insert it after the feature extractor: <c>z = fds.call(z, labels)</c> during training.
/// </summary>
/// <remarks>
/// Recipe: during epoch e, in training mode and e &gt;= <see cref="StartSmooth"/>, <c>forward</c> calibrates
/// z' = (z - mu_b) * sqrt(clamp(var~_b / var_b, min, max)) + mu~_b with the statistics frozen at the end of epoch e - 1.
/// At the end of epoch e, pass the epoch's training features (detached) to <see cref="EndEpoch(IEnumerable{ValueTuple{Tensor, Tensor}})"/>
/// (or call <see cref="UpdateStatistics"/> and then <see cref="EndEpoch()"/>). Eval mode is the identity. All statistics
/// are registered buffers, so a saved state dict restores them.
/// </remarks>
public sealed class FeatureDistributionSmoothing : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>The largest number of statistics per buffer, bins x feature dimension (100,000,000).</summary>
    public static long MaxStatistics => 100_000_000;

    private readonly Tensor running_mean;
    private readonly Tensor running_var;
    private readonly Tensor running_mean_last_epoch;
    private readonly Tensor running_var_last_epoch;
    private readonly Tensor smoothed_mean_last_epoch;
    private readonly Tensor smoothed_var_last_epoch;
    private readonly Tensor kernel_window;
    private readonly Tensor epoch;
    private readonly Tensor num_updates;
    private readonly Tensor binning_fingerprint;
    private readonly double[] _fingerprint;

    /// <summary>Creates the module with zero means and unit variances in every bin.</summary>
    /// <param name="featureDim">Feature dimension D of the [B, D] features.</param>
    /// <param name="binning">Label bins (at least (kernel size + 1) / 2 of them, for the reflect padding).</param>
    /// <param name="kernel">Smoothing kernel, used sum-normalized (default Gaussian, size 5, sigma 2).</param>
    /// <param name="startUpdate">First epoch (0-based) whose features update the statistics (default 0).</param>
    /// <param name="startSmooth">First epoch whose training forward passes are calibrated (default 1).</param>
    /// <param name="momentum">Weight of the old statistics in the running update (default 0.9); the run's first update overwrites.</param>
    /// <param name="clampMin">Lower clamp of the variance ratio var~ / var (default 0.1; STS-B uses 0.5).</param>
    /// <param name="clampMax">Upper clamp of the variance ratio (default 10; STS-B uses 2).</param>
    /// <param name="dtype">Floating dtype of the statistics (default float32).</param>
    /// <param name="device">Device of the statistics (default CPU; <c>to(device)</c> moves them like any module).</param>
    /// <exception cref="ArgumentException">Any option out of its range.</exception>
    public FeatureDistributionSmoothing(
        long featureDim,
        LabelBinning binning,
        KernelWindow? kernel = null,
        int startUpdate = 0,
        int startSmooth = 1,
        double momentum = 0.9,
        double clampMin = 0.1,
        double clampMax = 10.0,
        ScalarType dtype = ScalarType.Float32,
        Device? device = null)
        : base(nameof(FeatureDistributionSmoothing))
    {
        ArgumentNullException.ThrowIfNull(binning);
        kernel ??= new KernelWindow();
        if (featureDim < 1 || (double)featureDim * binning.Count > MaxStatistics)
        {
            throw new ArgumentOutOfRangeException(
                nameof(featureDim), featureDim, $"The feature dimension must be at least 1, with bins x dimension at most {MaxStatistics:N0} (got {binning.Count} bins).");
        }

        if (binning.Count <= kernel.Size / 2)
        {
            throw new ArgumentException(
                $"FDS needs more than {kernel.Size / 2} bins for a kernel of size {kernel.Size} (reflect padding); got {binning.Count}.", nameof(binning));
        }

        if (startUpdate < 0 || startSmooth < startUpdate)
        {
            throw new ArgumentOutOfRangeException(nameof(startSmooth), startSmooth, $"Need 0 <= startUpdate ({startUpdate}) <= startSmooth.");
        }

        if (!double.IsFinite(momentum) || momentum < 0 || momentum >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "The momentum must lie in [0, 1).");
        }

        if (!double.IsFinite(clampMin) || !double.IsFinite(clampMax) || clampMin <= 0 || clampMax < clampMin)
        {
            throw new ArgumentOutOfRangeException(nameof(clampMin), clampMin, $"Clamp bounds must be finite with 0 < min <= max; got [{clampMin}, {clampMax}].");
        }

        if (!InputValidation.IsFloatingPoint(dtype))
        {
            throw new ArgumentException($"dtype must be a floating-point type; got {dtype}.", nameof(dtype));
        }

        Binning = binning;
        Kernel = kernel;
        FeatureDim = featureDim;
        StartUpdate = startUpdate;
        StartSmooth = startSmooth;
        Momentum = momentum;
        ClampMin = clampMin;
        ClampMax = clampMax;

        long bins = binning.Count;
        running_mean = zeros(bins, featureDim, dtype: dtype, device: device);
        running_var = ones(bins, featureDim, dtype: dtype, device: device);
        running_mean_last_epoch = zeros(bins, featureDim, dtype: dtype, device: device);
        running_var_last_epoch = ones(bins, featureDim, dtype: dtype, device: device);
        smoothed_mean_last_epoch = zeros(bins, featureDim, dtype: dtype, device: device);
        smoothed_var_last_epoch = ones(bins, featureDim, dtype: dtype, device: device);
        kernel_window = tensor(kernel.SumNormalized(), dtype: dtype, device: device);
        epoch = zeros(1, dtype: ScalarType.Int64, device: device);
        num_updates = zeros(1, dtype: ScalarType.Int64, device: device);

        // Saved with the statistics: a state loaded from a module with other bins is refused at the next call.
        _fingerprint = Fingerprint(binning);
        binning_fingerprint = tensor(_fingerprint, dtype: ScalarType.Float64, device: device);
        RegisterComponents();
    }

    /// <summary>Label bins the statistics are kept for.</summary>
    public LabelBinning Binning { get; }

    /// <summary>Smoothing kernel (applied sum-normalized).</summary>
    public KernelWindow Kernel { get; }

    /// <summary>Feature dimension D.</summary>
    public long FeatureDim { get; }

    /// <summary>First epoch whose features update the statistics.</summary>
    public int StartUpdate { get; }

    /// <summary>First epoch whose training forward passes are calibrated.</summary>
    public int StartSmooth { get; }

    /// <summary>Weight of the old statistics in the running update.</summary>
    public double Momentum { get; }

    /// <summary>Lower clamp of the variance ratio.</summary>
    public double ClampMin { get; }

    /// <summary>Upper clamp of the variance ratio.</summary>
    public double ClampMax { get; }

    /// <summary>The current epoch (0-based): the number of <see cref="EndEpoch()"/> calls so far. Reading it syncs with the device.</summary>
    public long CurrentEpoch => epoch.item<long>();

    /// <summary>Running per-bin feature means [bins, D] (a view of the buffer).</summary>
    public Tensor RunningMean => running_mean;

    /// <summary>Running per-bin feature variances [bins, D] (a view of the buffer).</summary>
    public Tensor RunningVariance => running_var;

    /// <summary>Per-bin means frozen at the last epoch end, used by the calibration [bins, D].</summary>
    public Tensor LastEpochMean => running_mean_last_epoch;

    /// <summary>Per-bin variances frozen at the last epoch end [bins, D].</summary>
    public Tensor LastEpochVariance => running_var_last_epoch;

    /// <summary>Smoothed per-bin means of the last epoch end [bins, D].</summary>
    public Tensor SmoothedMean => smoothed_mean_last_epoch;

    /// <summary>Smoothed per-bin variances of the last epoch end [bins, D].</summary>
    public Tensor SmoothedVariance => smoothed_var_last_epoch;

    /// <summary>
    /// Calibrates features [B, D] by their labels' bins in training mode from epoch <see cref="StartSmooth"/> on; otherwise
    /// returns the features unchanged. Out of place; differentiable with respect to the features.
    /// </summary>
    /// <param name="features">Features [B, D] on the module's device.</param>
    /// <param name="labels">Labels [B] or [B, 1].</param>
    /// <exception cref="ArgumentException">Shapes or devices that do not fit, or NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The module holds statistics loaded from a module with other bins.</exception>
    public override Tensor forward(Tensor features, Tensor labels)
    {
        Validate(features, labels);
        if (!training || CurrentEpoch < StartSmooth)
        {
            return features.alias();
        }

        using var scope = NewDisposeScope();
        var bins = Binning.BinIndex(labels.reshape(-1));
        var mean = running_mean_last_epoch.index_select(0, bins);
        var variance = running_var_last_epoch.index_select(0, bins);
        var smoothedMean = smoothed_mean_last_epoch.index_select(0, bins);
        var smoothedVariance = smoothed_var_last_epoch.index_select(0, bins);
        var safeVariance = where(variance > 0, variance, ones_like(variance));
        var factor = (smoothedVariance / safeVariance).clamp(ClampMin, ClampMax).sqrt();
        var z = features.to(mean.dtype);
        var calibrated = where(variance > 0, (z - mean) * factor + smoothedMean, z);
        return calibrated.to(features.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Updates the running per-bin statistics from a set of features (usually the whole epoch's training features):
    /// per bin, the mean and the unbiased variance (the biased one, 0, for a bin seen once), blended as
    /// new = (1 - momentum) * current + momentum * old for the bins present; the run's first update overwrites.
    /// Ignored before <see cref="StartUpdate"/>. No gradient is recorded.
    /// </summary>
    /// <param name="features">Features [N, D].</param>
    /// <param name="labels">Labels [N] or [N, 1].</param>
    /// <exception cref="ArgumentException">Shapes or devices that do not fit, or NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The module holds statistics loaded from a module with other bins.</exception>
    public void UpdateStatistics(Tensor features, Tensor labels)
    {
        Validate(features, labels);
        if (CurrentEpoch < StartUpdate)
        {
            return;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long binCount = Binning.Count;
        var z = features.detach().to(running_mean.dtype);
        var bins = Binning.BinIndex(labels.reshape(-1));
        var counts = bincount(bins, minlength: binCount).to(z.dtype).unsqueeze(1);
        var sums = zeros_like(running_mean).index_add_(0, bins, z, 1);
        var mean = sums / counts.clamp_min(1);
        var deviations = (z - mean.index_select(0, bins)).square();
        var variance = zeros_like(running_var).index_add_(0, bins, deviations, 1) / (counts - 1).clamp_min(1);

        double keep = num_updates.item<long>() == 0 ? 0.0 : Momentum;
        var present = counts > 0;
        running_mean.copy_(where(present, mean * (1 - keep) + running_mean * keep, running_mean));
        running_var.copy_(where(present, variance * (1 - keep) + running_var * keep, running_var));
        num_updates.add_(1);
    }

    /// <summary>
    /// Ends the current epoch: freezes the running statistics as the last epoch's, smooths them across neighbouring bins
    /// with the sum-normalized kernel (reflect padding), and advances <see cref="CurrentEpoch"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The module holds statistics loaded from a module with other bins.</exception>
    public void EndEpoch()
    {
        RequireOwnBinning();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        running_mean_last_epoch.copy_(running_mean);
        running_var_last_epoch.copy_(running_var);
        smoothed_mean_last_epoch.copy_(SmoothAcrossBins(running_mean));
        smoothed_var_last_epoch.copy_(SmoothAcrossBins(running_var));
        epoch.add_(1);
    }

    /// <summary>
    /// The DIR recipe's epoch end: <see cref="UpdateStatistics"/> on all the given batches of (features [b, D], labels [b])
    /// at once, then <see cref="EndEpoch()"/>.
    /// </summary>
    /// <param name="featureBatches">
    /// The epoch's training features and labels, batch by batch: the encoder's output, the input of this module (not its
    /// calibrated output). Keep each batch's features detached (<c>z.detach()</c>) and outside the training step's dispose
    /// scope (<c>MoveToOuterDisposeScope()</c>), or the scope disposes them before the epoch ends; dispose them after this call.
    /// </param>
    /// <exception cref="ArgumentException">No batches, or batches whose shapes or devices do not fit.</exception>
    public void EndEpoch(IEnumerable<(Tensor Features, Tensor Labels)> featureBatches)
    {
        ArgumentNullException.ThrowIfNull(featureBatches);
        using var scope = NewDisposeScope();
        var batches = featureBatches.ToList();
        if (batches.Count == 0)
        {
            throw new ArgumentException("No feature batches given.", nameof(featureBatches));
        }

        for (int i = 0; i < batches.Count; i++)
        {
            if (batches[i].Features is null || batches[i].Labels is null)
            {
                throw new ArgumentException($"Batch {i} has a null features or labels tensor.", nameof(featureBatches));
            }

            try
            {
                Validate(batches[i].Features, batches[i].Labels);
            }
            catch (ArgumentException exception)
            {
                throw new ArgumentException($"Batch {i}: {exception.Message}", nameof(featureBatches), exception);
            }
        }

        UpdateStatistics(cat(batches.Select(b => b.Features.detach()).ToList(), 0), cat(batches.Select(b => b.Labels.detach().reshape(-1)).ToList(), 0));
        EndEpoch();
    }

    private Tensor SmoothAcrossBins(Tensor statistics)
    {
        int half = Kernel.Size / 2;
        var perFeature = statistics.t().unsqueeze(1);
        var padded = nn.functional.pad(perFeature, [half, half], PaddingModes.Reflect);
        var smoothed = nn.functional.conv1d(padded, kernel_window.view(1, 1, -1));
        return smoothed.squeeze(1).t();
    }

    private void Validate(Tensor features, Tensor labels)
    {
        InputValidation.RequireLive(features, nameof(features));
        InputValidation.RequireLive(labels, nameof(labels));
        if (features.dim() != 2 || features.size(1) != FeatureDim)
        {
            throw new ArgumentException($"features must be [B, {FeatureDim}]; got {InputValidation.Shape(features)}.", nameof(features));
        }

        InputValidation.RequireFloatingPoint(features, nameof(features));
        bool labelShape = (labels.dim() == 1 && labels.size(0) == features.size(0))
            || (labels.dim() == 2 && labels.size(0) == features.size(0) && labels.size(1) == 1);
        if (!labelShape)
        {
            throw new ArgumentException(
                $"labels must be [B] or [B, 1] with B = {features.size(0)}; got {InputValidation.Shape(labels)}.", nameof(labels));
        }

        InputValidation.RequireRealNumber(labels, nameof(labels));
        InputValidation.RequireData(features, nameof(features));
        InputValidation.RequireData(labels, nameof(labels));
        InputValidation.RequireSameDevice(running_mean, "the FDS statistics", features, nameof(features));
        InputValidation.RequireSameDevice(features, nameof(features), labels, nameof(labels));

        // One NaN would poison the running statistics of its bin for good.
        InputValidation.RequireFinite(features, nameof(features));
        InputValidation.RequireFinite(labels, nameof(labels));
        RequireOwnBinning();
    }

    /// <summary>Throws when the statistics were loaded from a module with other bins (the fingerprint buffer differs).</summary>
    private void RequireOwnBinning()
    {
        using var scope = NewDisposeScope();
        var loaded = binning_fingerprint.cpu().data<double>().ToArray();
        if (!loaded.SequenceEqual(_fingerprint))
        {
            throw new InvalidOperationException(
                $"This FDS module holds statistics saved by a module with other label bins ({loaded[0]:F0} bins, not the {Binning.Count} of this one, or other edges); load a state saved with the same LabelBinning.");
        }
    }

    /// <summary>The bin count and a 64-bit FNV-1a hash of the edges' bits (as two exact 32-bit halves).</summary>
    private static double[] Fingerprint(LabelBinning binning)
    {
        ulong hash = 14695981039346656037ul;
        foreach (double edge in binning.Edges)
        {
            hash = (hash ^ BitConverter.DoubleToUInt64Bits(edge)) * 1099511628211ul;
        }

        return [binning.Count, hash >> 32, hash & 0xFFFF_FFFFul];
    }
}
