using System.ComponentModel;
using RankSim.Autograd;
using TorchSharp;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>
/// The RankSim regularizer (Gong, Mori, Tung, "RankSim: Ranking Similarity Regularization for Deep Imbalanced
/// Regression", ICML 2022): in a batch, the ranking of every anchor's neighbours by feature similarity should match
/// their ranking by label similarity. Add it, weighted by gamma, to the regression loss of the same batch; its
/// functional form is <see cref="ranksim.nn.functional.ranksim_loss(Tensor, Tensor, FeatureRanking?, FeatureSimilarity, Reduction, bool, RankTies, Generator?, bool, double?)"/>.
/// </summary>
/// <example>
/// <code>
/// var rankSim = ranksim.nn.RankSimLoss(FeatureRanking.Blackbox(interpolationLambda: 0.5));
/// var loss = l1.call(pred, y) + 0.1 * rankSim.call(features, y);    // gamma 0.1, lambda 0.5: the recommended start
/// </code>
/// </example>
/// <remarks>
/// One call: validate -> keep one sample per distinct label (M of B) -> feature similarity S [M, M] and label
/// similarity L [M, M] -> RF = rk(S), differentiable by the chosen <see cref="FeatureRanking"/>, RL = rk(L) (a constant)
/// -> per anchor i, mean_j (RF_ij - RL_ij)^2 -> reduction. Options beyond the paper:
/// <see cref="FeatureSimilarity.CenteredCosine"/>, <see cref="PerturbationScaling.PerRow"/>, and soft ranks
/// (<see cref="FeatureRanking.Soft"/>). All anchors are computed together; the number of TorchSharp calls does not grow
/// with the batch. The result does not depend on the device: the CPU computes the same ranks as CUDA, with the
/// same tie and NaN order (see <see cref="CpuBackend"/> for how the CPU path can be switched to the device-agnostic one).
/// </remarks>
public sealed class RankSimLoss : Loss<Tensor, Tensor, Tensor>
{
    private readonly Generator? _generator;

    /// <summary>Creates the RankSim loss. Every setting has the paper's value by default.</summary>
    /// <param name="ranking">
    /// How the feature ranks are differentiated: <see cref="FeatureRanking.Blackbox"/> (default: lambda 2, the paper's rule)
    /// or <see cref="FeatureRanking.Soft"/>.
    /// </param>
    /// <param name="similarity">How features are compared (default <see cref="FeatureSimilarity.Cosine"/>, the paper's).</param>
    /// <param name="reduction">
    /// <see cref="Reduction.Sum"/> over anchors (default, the paper's and the reference code's: gamma values from the paper
    /// apply unchanged), <see cref="Reduction.Mean"/> (the sum divided by M, the number of kept samples: multiply gamma by
    /// about M to keep the same strength), or <see cref="Reduction.None"/> for the per-anchor losses [M].
    /// </param>
    /// <param name="subsampleDistinctLabels">Keep one randomly chosen sample per distinct label value (default true, the paper's).</param>
    /// <param name="labelTies">How equal label distances share ranks (default <see cref="RankTies.IndexOrder"/>, the reference code's).</param>
    /// <param name="generator">Random generator for the subsampling, for reproducible runs; null uses TorchSharp's default generator.</param>
    /// <param name="checkFinite">
    /// Reject NaN or infinite features and labels (default true; one device-to-host synchronization per call). Turned off,
    /// nothing detects them: the ranks still order a NaN or an infinity (every NaN above +infinity), so the loss can come
    /// out finite while the gradient of the features is NaN. Check the inputs yourself if you turn this off.
    /// </param>
    /// <param name="labelBinWidth">
    /// Null (default, the paper's) keeps one sample per distinct label value. A width w &gt; 0, in label units, keeps one
    /// randomly chosen sample per label bin [k w, (k + 1) w) instead (per coordinate for K-dimensional labels), and ranks
    /// the kept samples by their own labels: M is then at most the number of occupied bins, which bounds the cost
    /// (O(M^2 D)) and memory (a few [M, M] matrices) of a call for continuous labels, where every sample is distinct and
    /// M = B. Requires <paramref name="subsampleDistinctLabels"/>. Labels are binned in float64.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">An enum value is undefined, or <paramref name="labelBinWidth"/> is not a finite positive number.</exception>
    /// <exception cref="ArgumentException">
    /// The generator is disposed or names a device other than the CPU or CUDA, or a bin width is given without
    /// <paramref name="subsampleDistinctLabels"/>.
    /// </exception>
    public RankSimLoss(
        FeatureRanking? ranking = null,
        FeatureSimilarity similarity = FeatureSimilarity.Cosine,
        Reduction reduction = Reduction.Sum,
        bool subsampleDistinctLabels = true,
        RankTies labelTies = RankTies.IndexOrder,
        Generator? generator = null,
        bool checkFinite = true,
        double? labelBinWidth = null)
        : base(reduction)
    {
        InputValidation.RequireDefined(reduction, nameof(reduction));
        InputValidation.RequireDefined(similarity, nameof(similarity));
        InputValidation.RequireDefined(labelTies, nameof(labelTies));
        InputValidation.RequireGenerator(generator, nameof(generator));
        RequireBinWidth(labelBinWidth, subsampleDistinctLabels, nameof(labelBinWidth), nameof(subsampleDistinctLabels));

        Ranking = ranking ?? FeatureRanking.Default;
        Similarity = similarity;
        Reduction = reduction;
        SubsampleDistinctLabels = subsampleDistinctLabels;
        LabelTies = labelTies;
        _generator = generator;
        CheckFinite = checkFinite;
        LabelBinWidth = labelBinWidth;
    }

    /// <summary>Creates the RankSim loss (the 1.0 signature, kept for compiled callers; see the constructor with <c>labelBinWidth</c>).</summary>
    /// <param name="ranking">How the feature ranks are differentiated.</param>
    /// <param name="similarity">How features are compared.</param>
    /// <param name="reduction">How the per-anchor losses are reduced.</param>
    /// <param name="subsampleDistinctLabels">Keep one randomly chosen sample per distinct label value.</param>
    /// <param name="labelTies">How equal label distances share ranks.</param>
    /// <param name="generator">Random generator for the subsampling; null uses TorchSharp's default generator.</param>
    /// <param name="checkFinite">Reject NaN or infinite features and labels.</param>
    /// <exception cref="ArgumentOutOfRangeException">An enum value is undefined.</exception>
    /// <exception cref="ArgumentException">The generator is disposed or names a device other than the CPU or CUDA.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RankSimLoss(
        FeatureRanking? ranking,
        FeatureSimilarity similarity,
        Reduction reduction,
        bool subsampleDistinctLabels,
        RankTies labelTies,
        Generator? generator,
        bool checkFinite)
        : this(ranking, similarity, reduction, subsampleDistinctLabels, labelTies, generator, checkFinite, null)
    {
    }

    /// <summary>How the feature ranks are differentiated, with that choice's settings.</summary>
    public FeatureRanking Ranking { get; }

    /// <summary>How features are compared.</summary>
    public FeatureSimilarity Similarity { get; }

    /// <summary>How the per-anchor losses are reduced.</summary>
    public Reduction Reduction { get; }

    /// <summary>Whether one sample per distinct label value is kept before ranking.</summary>
    public bool SubsampleDistinctLabels { get; }

    /// <summary>How equal label distances share ranks.</summary>
    public RankTies LabelTies { get; }

    /// <summary>Whether NaN and infinite inputs are rejected (one host synchronization per call).</summary>
    public bool CheckFinite { get; }

    /// <summary>The width of the label bins that keep one sample each, in label units; null keeps one per distinct value.</summary>
    public double? LabelBinWidth { get; }

    /// <summary>Computes the RankSim loss.</summary>
    /// <param name="features">Features [B, ...] of any floating dtype and device (flattened to [B, D]); usually the penultimate layer.</param>
    /// <param name="labels">Labels [B], [B, 1] or [B, K] (K-dimensional), integer or floating, on the features' device.</param>
    /// <returns>
    /// A 0-dim tensor under Sum and Mean, the per-anchor losses [M] under None. Float64 for float64 features, float32
    /// otherwise; the gradient reaches <paramref name="features"/> in its dtype and device. Rows of samples dropped by the
    /// subsampling get a zero gradient. With one distinct label (M = 1) the loss and its gradient are 0. A float16
    /// gradient is saturated to float16's finite range (a zero row's cosine gradient, dL/dn / 1e-12, can exceed it).
    /// </returns>
    /// <exception cref="ArgumentException">
    /// Shapes, dtypes or devices that do not fit, an empty batch, sparse, quantized or meta tensors, int64 labels beyond
    /// +-2^53, a disposed generator, or (with <see cref="CheckFinite"/>) NaN or infinite values.
    /// </exception>
    public override Tensor forward(Tensor features, Tensor labels) =>
        Evaluate(features, labels, Ranking, Similarity, Reduction, SubsampleDistinctLabels, LabelTies, _generator, CheckFinite, LabelBinWidth);

    /// <summary>The loss for the given settings, shared with the functional form.</summary>
    internal static Tensor Compute(
        Tensor features,
        Tensor labels,
        FeatureRanking ranking,
        FeatureSimilarity similarity,
        Reduction reduction,
        bool subsampleDistinctLabels,
        RankTies labelTies,
        Generator? generator,
        bool checkFinite,
        double? labelBinWidth)
    {
        InputValidation.RequireDefined(reduction, nameof(reduction));
        InputValidation.RequireDefined(similarity, nameof(similarity));
        InputValidation.RequireDefined(labelTies, nameof(labelTies));
        RequireBinWidth(labelBinWidth, subsampleDistinctLabels, "label_bin_width", "subsample_distinct_labels");
        return Evaluate(features, labels, ranking, similarity, reduction, subsampleDistinctLabels, labelTies, generator, checkFinite, labelBinWidth);
    }

    /// <summary>The bin index floor(y / width) of every label coordinate, in float64: labels in one bin compare equal.</summary>
    private static Tensor Bins(Tensor labels, double width) => labels.to(ScalarType.Float64).div(width).floor_();

    /// <summary>A bin width is null, or finite and positive and given with the subsampling it changes.</summary>
    private static void RequireBinWidth(double? width, bool subsample, string widthName, string subsampleName)
    {
        if (width is not double w)
        {
            return;
        }

        if (!double.IsFinite(w) || w <= 0)
        {
            throw new ArgumentOutOfRangeException(widthName, w, "The label bin width must be a finite positive number (in label units), or null for one sample per distinct label.");
        }

        if (!subsample)
        {
            throw new ArgumentException($"A label bin width chooses which samples the subsampling keeps; it needs {subsampleName} = true.", widthName);
        }
    }

    /// <summary>
    /// The loss for options already checked (by the constructor, or by <see cref="Compute"/>): checks the tensors and the
    /// generator, which can change between calls, and computes.
    /// </summary>
    private static Tensor Evaluate(
        Tensor features,
        Tensor labels,
        FeatureRanking ranking,
        FeatureSimilarity similarity,
        Reduction reduction,
        bool subsampleDistinctLabels,
        RankTies labelTies,
        Generator? generator,
        bool checkFinite,
        double? labelBinWidth)
    {
        InputValidation.RequireFeaturesAndLabels(features, labels, checkFinite);
        InputValidation.RequireGenerator(generator, nameof(generator));

        using var scope = NewDisposeScope();
        long batch = features.size(0);
        var workingDtype = BlackboxRank.WorkingDtype(features.dtype);
        // A gradient-requiring input is taken through a view even when it is already [B, D]: the view's backward hands the
        // features a tensor that only the engine holds, which a fresh leaf's .grad then takes as it is. A tensor returned
        // by a custom function's backward is also held by its .NET handle, and the engine copies it ([B, D]) instead.
        var flat = features.requires_grad || features.dim() != 2 ? features.reshape(batch, -1) : features;

        // float16 features: the gradient comes back saturated to float16's range (a zero row's can exceed it).
        var f = flat.dtype == ScalarType.Float16 ? SaturatingCastFunction.apply(flat) : flat.dtype == workingDtype ? flat : flat.to(workingDtype);

        // Floating labels are ranked in their working dtype (float32 or float64, as the reference implementation ranks
        // them); integer labels in float64, exact up to 2^53 (validated). Label distances never overflow: the kernel
        // declines a range that would, and the tensor formula scales the labels by a power of two first. (Each step is
        // skipped where it would change nothing: every TorchSharp call costs microseconds, which add up at small M.)
        var y = labels.requires_grad ? labels.detach() : labels;
        y = y.dim() == 2 ? y : y.reshape(batch, -1);
        var labelDtype = InputValidation.IsFloatingPoint(y.dtype) ? BlackboxRank.WorkingDtype(y.dtype) : ScalarType.Float64;
        y = y.dtype == labelDtype ? y : y.to(labelDtype);

        // Each step below is computed by a CPU kernel or by its tensor formula, as Dispatch alone decides.
        var kept = subsampleDistinctLabels ? DistinctLabelSampler.Sample(labelBinWidth is double width ? Bins(y, width) : y, generator) : null;
        if (kept is not null)
        {
            y = y.index_select(0, kept);
        }

        // The label ranks are made where the objective reads them: as a matrix, or row by row on the CPU kernels.
        var labelRanks = LabelRankMatrix.FromLabels(y, labelTies, integerLabels: !InputValidation.IsFloatingPoint(labels.dtype));
        var similarities = SimilarityMatrix.Pairwise(f, similarity, kept);
        var loss = ranking.Objective(similarities, labelRanks, reduction);

        // The dot product may save the caller's features themselves: an in-place change before backward then fails there
        // with libtorch's message.
        loss = similarity == FeatureSimilarity.DotProduct ? SavedInputCheck.Attach(loss, features) : loss;
        return loss.MoveToOuterDisposeScope();
    }
}
