using RankSim.Autograd;
using RankSim.Cpu;
using TorchSharp;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>
/// The RankSim regularizer (Gong, Mori, Tung, "RankSim: Ranking Similarity Regularization for Deep Imbalanced
/// Regression", ICML 2022): in a batch, the ranking of every anchor's neighbours by feature similarity should match
/// their ranking by label similarity. Add it to the regression loss, e.g. <c>l1(pred, y) + gamma * rankSim.call(features, y)</c>.
/// </summary>
/// <remarks>
/// One call: validate -> keep one sample per distinct label (M of B) -> feature similarity S [M, M] and label
/// similarity L [M, M] -> RF = BlackboxRank(S, lambda), RL = rk(L) (a constant) -> per anchor i,
/// mean_j (RF_ij - RL_ij)^2 -> reduction. Options beyond the paper: <see cref="FeatureSimilarity.CentredCosine"/>,
/// <see cref="PerturbationScaling"/>, and soft ranks (<see cref="FeatureRanking"/>). All anchors are computed together; the number of TorchSharp calls does not
/// grow with the batch. The result does not depend on the device: the CPU computes the same ranks as CUDA, with the
/// same tie and NaN order (see <see cref="CpuBackend"/> for how the CPU path can be switched to the device-agnostic one).
/// </remarks>
public sealed class RankSimLoss : Loss<Tensor, Tensor, Tensor>
{
    private readonly Generator? _generator;
    private readonly PerturbationScaling _perturbationScaling;
    private readonly FeatureRanking _featureRanking;
    private readonly double _softRankRegularization = DefaultSoftRankRegularization;

    /// <summary>The default <see cref="SoftRankRegularization"/>, 0.1 (in similarity units).</summary>
    public const double DefaultSoftRankRegularization = 0.1;

    /// <summary>Creates the RankSim loss.</summary>
    /// <param name="interpolationLambda">
    /// Blackbox interpolation strength lambda in (0, 1e30] (paper default 2). The backward pass perturbs the similarities
    /// by lambda times their upstream gradient; a lambda so small that this moves no similarity past a neighbour gives an
    /// exactly zero gradient (with float32 similarities the perturbation must reach about 1e-7).
    /// </param>
    /// <param name="subsampleDistinctLabels">Keep one randomly chosen sample per distinct label value (paper default true).</param>
    /// <param name="generator">Random generator for that choice, for reproducible runs; null uses TorchSharp's default generator.</param>
    /// <param name="reduction">
    /// <see cref="Reduction.Sum"/> over anchors (the paper's, default), <see cref="Reduction.Mean"/>, or
    /// <see cref="Reduction.None"/> for the per-anchor losses [M] in batch order of the kept samples.
    /// </param>
    /// <param name="featureSimilarity">How features are compared (default cosine).</param>
    /// <param name="labelTies">How equal label similarities share ranks (default index order).</param>
    /// <param name="checkFinite">Reject NaN or infinite features and labels (default true; costs one device-to-host synchronisation per call).</param>
    /// <exception cref="ArgumentOutOfRangeException">lambda is not in (0, 1e30], or an enum value is unknown.</exception>
    /// <exception cref="ArgumentException">The generator is disposed or names a device other than the CPU or CUDA.</exception>
    public RankSimLoss(
        double interpolationLambda = 2.0,
        bool subsampleDistinctLabels = true,
        Generator? generator = null,
        Reduction reduction = Reduction.Sum,
        FeatureSimilarity featureSimilarity = FeatureSimilarity.Cosine,
        RankTies labelTies = RankTies.IndexOrder,
        bool checkFinite = true)
        : base(reduction)
    {
        InputValidation.RequireLambda(interpolationLambda, nameof(interpolationLambda));
        InputValidation.RequireDefined(reduction, nameof(reduction));
        InputValidation.RequireDefined(featureSimilarity, nameof(featureSimilarity));
        InputValidation.RequireDefined(labelTies, nameof(labelTies));
        InputValidation.RequireGenerator(generator, nameof(generator));

        InterpolationLambda = interpolationLambda;
        SubsampleDistinctLabels = subsampleDistinctLabels;
        _generator = generator;
        FeatureSimilarity = featureSimilarity;
        LabelTies = labelTies;
        CheckFinite = checkFinite;
    }

    /// <summary>Blackbox interpolation strength lambda, in (0, 1e30] (default 2).</summary>
    public double InterpolationLambda { get; }

    /// <summary>Whether one sample per distinct label value is kept before ranking (default true).</summary>
    public bool SubsampleDistinctLabels { get; }

    /// <summary>How features are compared (default cosine).</summary>
    public FeatureSimilarity FeatureSimilarity { get; }

    /// <summary>How equal label similarities share ranks (default index order).</summary>
    public RankTies LabelTies { get; }

    /// <summary>Whether NaN and infinite inputs are rejected (default true; one host synchronisation per call).</summary>
    public bool CheckFinite { get; }

    /// <summary>
    /// How far the blackbox backward pass perturbs each anchor's similarities (default <see cref="PerturbationScaling.Paper"/>,
    /// the published rule and bit-identical to it; <see cref="PerturbationScaling.PerRow"/> makes lambda dimensionless:
    /// about lambda standard deviations of the row's similarities, whatever gamma, M and the reduction).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An undefined value (when set).</exception>
    public PerturbationScaling PerturbationScaling
    {
        get => _perturbationScaling;
        init
        {
            InputValidation.RequireDefined(value, nameof(PerturbationScaling));
            _perturbationScaling = value;
        }
    }

    /// <summary>
    /// How the feature ranks are made differentiable (default <see cref="FeatureRanking.Blackbox"/>, the paper's;
    /// <see cref="FeatureRanking.Soft"/> uses soft ranks with <see cref="SoftRankRegularization"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An undefined value (when set).</exception>
    public FeatureRanking FeatureRanking
    {
        get => _featureRanking;
        init
        {
            InputValidation.RequireDefined(value, nameof(FeatureRanking));
            _featureRanking = value;
        }
    }

    /// <summary>
    /// The regularisation epsilon of <see cref="FeatureRanking.Soft"/> in [1e-30, 1e30], in the units of the feature
    /// similarities (default 0.1: for cosine similarities, neighbours closer than about 0.1 share ranks; see
    /// <see cref="SoftRank"/>). Not used by the blackbox ranks.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A value outside [1e-30, 1e30] (when set).</exception>
    public double SoftRankRegularization
    {
        get => _softRankRegularization;
        init
        {
            SoftRank.RequireRegularization(value, nameof(SoftRankRegularization));
            _softRankRegularization = value;
        }
    }

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
    public override Tensor forward(Tensor features, Tensor labels)
    {
        Validate(features, labels);

        using var scope = NewDisposeScope();
        long batch = features.shape[0];
        var workingDtype = BlackboxRank.WorkingDtype(features.dtype);
        var flat = features.dim() == 2 ? features : features.reshape(batch, -1);

        // float16 features: the gradient comes back saturated to float16's range (a zero row's can exceed it).
        var f = flat.dtype == ScalarType.Float16 ? SaturatingCastFunction.apply(flat) : flat.to(workingDtype);

        // Floating labels are ranked in their working dtype (float32 or float64, as the reference implementation ranks
        // them); integer labels in float64, exact up to 2^53 (validated). Label distances never overflow: the kernel
        // declines a range that would, and the tensor formula scales the labels by a power of two first.
        var y = labels.detach();
        y = y.dim() == 2 ? y : y.reshape(batch, -1);
        y = y.to(InputValidation.IsFloatingPoint(y.dtype) ? BlackboxRank.WorkingDtype(y.dtype) : ScalarType.Float64);

        // Each step below is computed by a CPU kernel or by its tensor formula; CpuKernels decides, here and nowhere else.
        var kept = SubsampleDistinctLabels ? CpuKernels.SampleDistinctLabels(y, _generator) : null;
        if (kept is not null)
        {
            y = y.index_select(0, kept);
        }

        // Label ranks first: on the CPU they are a managed kernel, best run before libtorch's threads get busy with S.
        var labelRanks = CpuKernels.LabelRanks(y, LabelTies);
        var similarity = CpuKernels.Similarity(f, FeatureSimilarity, kept);
        var loss = FeatureRanking == FeatureRanking.Soft
            ? CpuKernels.SoftObjective(similarity, labelRanks, SoftRankRegularization, reduction)
            : CpuKernels.Objective(similarity, labelRanks, InterpolationLambda, reduction, PerturbationScaling);
        return loss.MoveToOuterDisposeScope();
    }

    private void Validate(Tensor features, Tensor labels)
    {
        InputValidation.RequireLive(features, nameof(features));
        InputValidation.RequireLive(labels, nameof(labels));
        if (features.dim() < 2)
        {
            throw new ArgumentException(
                $"features must have at least 2 dimensions [B, D, ...]; got shape {InputValidation.Shape(features)}.", nameof(features));
        }

        InputValidation.RequireFloatingPoint(features, nameof(features));
        if (labels.dim() is < 1 or > 2)
        {
            throw new ArgumentException(
                $"labels must be [B], [B, 1] or [B, K]; got shape {InputValidation.Shape(labels)}.", nameof(labels));
        }

        InputValidation.RequireRealNumber(labels, nameof(labels));
        long batch = features.shape[0];
        long labelBatch = labels.shape[0];
        if (labelBatch != batch)
        {
            throw new ArgumentException(
                $"labels has batch size {labelBatch} but features has {batch}.", nameof(labels));
        }

        if (batch == 0)
        {
            throw new ArgumentException("The batch is empty (batch size 0).", nameof(features));
        }

        if (features.numel() == 0)
        {
            throw new ArgumentException(
                $"features has no feature values (shape {InputValidation.Shape(features)}).", nameof(features));
        }

        if (labels.numel() == 0)
        {
            throw new ArgumentException($"labels has no values (shape {InputValidation.Shape(labels)}).", nameof(labels));
        }

        InputValidation.RequireData(features, nameof(features));
        InputValidation.RequireData(labels, nameof(labels));
        InputValidation.RequireSameDevice(features, nameof(features), labels, nameof(labels));
        InputValidation.RequireGenerator(_generator, "generator");
        InputValidation.RequireExactInFloat64(labels, nameof(labels));
        if (CheckFinite)
        {
            InputValidation.RequireFinite(features, nameof(features));
            InputValidation.RequireFinite(labels, nameof(labels));
        }
    }
}
