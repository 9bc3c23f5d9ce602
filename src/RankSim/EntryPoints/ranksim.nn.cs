using System.ComponentModel;
using RankSim.Dir;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

/// <summary>
/// The package's entry points in TorchSharp's style: module factories in <see cref="nn"/> (like <c>torch.nn.L1Loss()</c>)
/// and functional forms in <see cref="nn.functional"/> (like <c>torch.nn.functional.l1_loss(...)</c>), for every loss and
/// ranker of the RankSim core and of the DIR toolkit. Parameter names follow TorchSharp's and the reference code's
/// (snake_case); the module classes themselves (<see cref="RankSimLoss"/>, ...) can also be constructed directly.
/// </summary>
/// <example>
/// <code>
/// using RankSim;
/// var rankSim = ranksim.nn.RankSimLoss();                                   // a module, as nn.L1Loss()
/// var loss = ranksim.nn.functional.ranksim_loss(features, y);               // the same loss, functional
/// </code>
/// </example>
#pragma warning disable CS8981, CA1707, IDE1006 // TorchSharp's naming: lowercase entry classes and snake_case functional forms.
public static partial class ranksim
{
    /// <summary>Module factories: each returns a new module with the given settings (defaults: the papers' values).</summary>
    public static partial class nn
    {
        /// <summary>The RankSim regularizer (Gong et al., ICML 2022) as a module; see <see cref="RankSim.RankSimLoss"/>.</summary>
        /// <param name="ranking">How the feature ranks are differentiated (default <see cref="FeatureRanking.Blackbox"/> with lambda 2).</param>
        /// <param name="similarity">How features are compared (default cosine).</param>
        /// <param name="reduction">Sum over anchors (default, the paper's), Mean, or None (per-anchor losses [M]).</param>
        /// <param name="subsample_distinct_labels">Keep one random sample per distinct label value (default true).</param>
        /// <param name="label_ties">How equal label distances share ranks (default index order).</param>
        /// <param name="generator">Random generator for the subsampling; null uses TorchSharp's default.</param>
        /// <param name="check_finite">Reject NaN or infinite inputs (default true; turned off, a non-finite feature can give a finite loss and a NaN gradient).</param>
        /// <param name="label_bin_width">
        /// Null (default) keeps one sample per distinct label; a width w &gt; 0 (label units) keeps one per label bin
        /// [k w, (k + 1) w), which bounds M, and so the cost, for continuous labels (see <see cref="RankSim.RankSimLoss.LabelBinWidth"/>).
        /// </param>
        /// <returns>The loss module; call it with (features [B, ...], labels [B] / [B, 1] / [B, K]).</returns>
        /// <exception cref="ArgumentException">An undefined enum value, a disposed generator, or a bin width that is not finite and positive or comes without the subsampling.</exception>
        public static RankSimLoss RankSimLoss(
            FeatureRanking? ranking = null,
            FeatureSimilarity similarity = FeatureSimilarity.Cosine,
            Reduction reduction = Reduction.Sum,
            bool subsample_distinct_labels = true,
            RankTies label_ties = RankTies.IndexOrder,
            Generator? generator = null,
            bool check_finite = true,
            double? label_bin_width = null) =>
            new(ranking, similarity, reduction, subsample_distinct_labels, label_ties, generator, check_finite, label_bin_width);

        /// <summary>The RankSim module (the 1.0 signature, kept for compiled callers; see the overload with <c>label_bin_width</c>).</summary>
        /// <param name="ranking">How the feature ranks are differentiated.</param>
        /// <param name="similarity">How features are compared.</param>
        /// <param name="reduction">How the per-anchor losses are reduced.</param>
        /// <param name="subsample_distinct_labels">Keep one random sample per distinct label value.</param>
        /// <param name="label_ties">How equal label distances share ranks.</param>
        /// <param name="generator">Random generator for the subsampling; null uses TorchSharp's default.</param>
        /// <param name="check_finite">Reject NaN or infinite inputs.</param>
        /// <returns>The loss module.</returns>
        /// <exception cref="ArgumentException">An undefined enum value or a disposed generator.</exception>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public static RankSimLoss RankSimLoss(
            FeatureRanking? ranking,
            FeatureSimilarity similarity,
            Reduction reduction,
            bool subsample_distinct_labels,
            RankTies label_ties,
            Generator? generator,
            bool check_finite) =>
            new(ranking, similarity, reduction, subsample_distinct_labels, label_ties, generator, check_finite, null);

        /// <summary>The ordinal entropy regularizer (Zhang et al., ICLR 2023) as a module; see <see cref="RankSim.OrdinalEntropyLoss"/>.</summary>
        /// <param name="diversity_weight">Weight of the diversity term (spreads the label centers apart), in [0, 1e6] (default 1).</param>
        /// <param name="tightness_weight">Weight of the tightness term (pulls features to their label's center), in [0, 1e6] (default 1).</param>
        /// <param name="check_finite">Reject NaN or infinite inputs (default true).</param>
        /// <returns>The loss module; call it with (features [B, ...], labels [B] / [B, 1] / [B, K]).</returns>
        /// <exception cref="ArgumentOutOfRangeException">A weight is not in [0, 1e6].</exception>
        public static OrdinalEntropyLoss OrdinalEntropyLoss(double diversity_weight = 1.0, double tightness_weight = 1.0, bool check_finite = true) =>
            new(diversity_weight, tightness_weight, check_finite);

        /// <summary>The blackbox ranker (the reference's <c>TrueRanker</c>) as a module; see <see cref="RankSim.BlackboxRanker"/>.</summary>
        /// <param name="interpolation_lambda">Interpolation strength lambda of the backward pass, in (0, 1e30] (default 2).</param>
        /// <returns>The ranker module; call it with scores [N] or [R, N].</returns>
        /// <exception cref="ArgumentOutOfRangeException">lambda is not in (0, 1e30].</exception>
        public static BlackboxRanker BlackboxRanker(double interpolation_lambda = 2.0) => new(interpolation_lambda);

        /// <summary>Soft ranks (Blondel et al., ICML 2020) as a module, by default in torchsort's convention; see <see cref="RankSim.SoftRanker"/>.</summary>
        /// <param name="regularization_strength">epsilon in [1e-30, 1e30], in the units of the values (default 1).</param>
        /// <param name="descending">Rank the largest value first (default false).</param>
        /// <param name="normalized">Divide the ranks by N (default false).</param>
        /// <returns>The ranker module; call it with values [N] or [R, N].</returns>
        /// <exception cref="ArgumentOutOfRangeException">epsilon is not in [1e-30, 1e30].</exception>
        public static SoftRanker SoftRanker(double regularization_strength = 1.0, bool descending = false, bool normalized = false) =>
            new(regularization_strength, descending, normalized);

        /// <summary>Squared error with optional per-sample weights; see <see cref="Dir.WeightedMSELoss"/>.</summary>
        /// <param name="reduction">Mean (default), Sum, or None.</param>
        /// <returns>The loss module; call it with (input, target) or (input, target, weights).</returns>
        /// <exception cref="ArgumentOutOfRangeException">An undefined reduction.</exception>
        public static WeightedMSELoss WeightedMSELoss(Reduction reduction = Reduction.Mean) => new(reduction);

        /// <summary>Absolute error with optional per-sample weights; see <see cref="Dir.WeightedL1Loss"/>.</summary>
        /// <param name="reduction">Mean (default), Sum, or None.</param>
        /// <returns>The loss module; call it with (input, target) or (input, target, weights).</returns>
        /// <exception cref="ArgumentOutOfRangeException">An undefined reduction.</exception>
        public static WeightedL1Loss WeightedL1Loss(Reduction reduction = Reduction.Mean) => new(reduction);

        /// <summary>Huber loss with optional per-sample weights; see <see cref="Dir.WeightedHuberLoss"/>.</summary>
        /// <param name="beta">Threshold between the quadratic and the linear part, &gt; 0 (default 1).</param>
        /// <param name="reduction">Mean (default), Sum, or None.</param>
        /// <returns>The loss module; call it with (input, target) or (input, target, weights).</returns>
        /// <exception cref="ArgumentOutOfRangeException">beta not finite and positive, or an undefined reduction.</exception>
        public static WeightedHuberLoss WeightedHuberLoss(double beta = 1.0, Reduction reduction = Reduction.Mean) => new(beta, reduction);

        /// <summary>Focal-R (Yang et al., ICML 2021) with optional per-sample weights; see <see cref="Dir.FocalRLoss"/>.</summary>
        /// <param name="base_loss">L1 (default) or MSE.</param>
        /// <param name="activate">Sigmoid (default) or tanh.</param>
        /// <param name="beta">Scale of |e| inside the modulation, in (0, 1e30] (default 0.2).</param>
        /// <param name="gamma">Exponent of the modulation, in [0, 1000] (default 1).</param>
        /// <param name="reduction">Mean (default), Sum, or None.</param>
        /// <returns>The loss module; call it with (input, target) or (input, target, weights).</returns>
        /// <exception cref="ArgumentOutOfRangeException">An undefined enum value, or beta or gamma out of range.</exception>
        public static FocalRLoss FocalRLoss(
            FocalRBase base_loss = FocalRBase.L1,
            FocalRActivation activate = FocalRActivation.Sigmoid,
            double beta = 0.2,
            double gamma = 1.0,
            Reduction reduction = Reduction.Mean) =>
            new(base_loss, activate, beta, gamma, reduction);

        /// <summary>Balanced MSE, batch-based Monte-Carlo (Ren et al., CVPR 2022), as the reference's <c>BMCLoss(init_noise_sigma)</c>; see <see cref="Dir.BMCLoss"/>.</summary>
        /// <param name="init_noise_sigma">The noise scale sigma at the start, not the variance, in [1e-15, 1e15] (default 1).</param>
        /// <param name="learnable">Train sigma with the model (default true; add the module's parameters to the optimizer).</param>
        /// <returns>The loss module; call it with (input, target).</returns>
        /// <exception cref="ArgumentOutOfRangeException">sigma is outside [1e-15, 1e15].</exception>
        public static BMCLoss BMCLoss(double init_noise_sigma = 1.0, bool learnable = true) => new(init_noise_sigma, learnable);

        /// <summary>Balanced MSE with a Gaussian-mixture label prior (Ren et al., CVPR 2022), as the reference's <c>GAILoss(init_noise_sigma, gmm)</c>; see <see cref="Dir.GAILoss"/>.</summary>
        /// <param name="gmm">The mixture fitted to the training labels (<see cref="GaussianMixture.Fit"/>).</param>
        /// <param name="init_noise_sigma">The noise scale sigma at the start, not the variance, in [1e-15, 1e15] (default 1).</param>
        /// <param name="learnable">Train sigma with the model (default true; add the module's parameters to the optimizer).</param>
        /// <returns>The loss module; call it with (input, target).</returns>
        /// <exception cref="ArgumentNullException">The mixture is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException">sigma is outside [1e-15, 1e15].</exception>
        public static GAILoss GAILoss(GaussianMixture gmm, double init_noise_sigma = 1.0, bool learnable = true) =>
            new(gmm, init_noise_sigma, learnable);
    }
}
#pragma warning restore CS8981, CA1707, IDE1006
