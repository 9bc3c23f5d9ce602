using System.ComponentModel;
using RankSim.Dir;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim;

#pragma warning disable CS8981, CA1707, IDE1006 // TorchSharp's naming: lowercase entry classes and snake_case functional forms.
public static partial class ranksim
{
    public static partial class nn
    {
        /// <summary>
        /// Functional forms, like <c>torch.nn.functional</c>: each computes what the module of the same name computes, from
        /// its arguments alone (the same values and gradients), named as in the reference PyTorch code.
        /// </summary>
        public static class functional
        {
            /// <summary>
            /// The RankSim regularizer (Gong et al., ICML 2022) of one batch: the reference's
            /// <c>batchwise_ranking_regularizer(features, targets, interpolation_lambda)</c> is
            /// <c>ranksim_loss(features, targets, FeatureRanking.Blackbox(interpolation_lambda))</c>. See <see cref="RankSim.RankSimLoss"/>.
            /// </summary>
            /// <param name="features">Features [B, ...] of any floating dtype and device (flattened to [B, D]); usually the penultimate layer.</param>
            /// <param name="labels">Labels [B], [B, 1] or [B, K], integer or floating, on the features' device.</param>
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
            /// <returns>As <see cref="RankSim.RankSimLoss.forward"/>: a 0-dim tensor under Sum and Mean, [M] under None.</returns>
            /// <exception cref="ArgumentException">Inputs that do not fit (see <see cref="RankSim.RankSimLoss.forward"/>), an undefined enum value, or a bin width that is not finite and positive or comes without the subsampling.</exception>
            public static Tensor ranksim_loss(
                Tensor features,
                Tensor labels,
                FeatureRanking? ranking = null,
                FeatureSimilarity similarity = FeatureSimilarity.Cosine,
                Reduction reduction = Reduction.Sum,
                bool subsample_distinct_labels = true,
                RankTies label_ties = RankTies.IndexOrder,
                Generator? generator = null,
                bool check_finite = true,
                double? label_bin_width = null) =>
                RankSim.RankSimLoss.Compute(
                    features, labels, ranking ?? FeatureRanking.Default, similarity, reduction, subsample_distinct_labels, label_ties, generator, check_finite, label_bin_width);

            /// <summary>The RankSim regularizer of one batch (the 1.0 signature, kept for compiled callers; see the overload with <c>label_bin_width</c>).</summary>
            /// <param name="features">Features [B, ...].</param>
            /// <param name="labels">Labels [B], [B, 1] or [B, K].</param>
            /// <param name="ranking">How the feature ranks are differentiated.</param>
            /// <param name="similarity">How features are compared.</param>
            /// <param name="reduction">How the per-anchor losses are reduced.</param>
            /// <param name="subsample_distinct_labels">Keep one random sample per distinct label value.</param>
            /// <param name="label_ties">How equal label distances share ranks.</param>
            /// <param name="generator">Random generator for the subsampling.</param>
            /// <param name="check_finite">Reject NaN or infinite inputs.</param>
            /// <returns>The loss.</returns>
            /// <exception cref="ArgumentException">Inputs that do not fit or an undefined enum value.</exception>
            [EditorBrowsable(EditorBrowsableState.Never)]
            public static Tensor ranksim_loss(
                Tensor features,
                Tensor labels,
                FeatureRanking? ranking,
                FeatureSimilarity similarity,
                Reduction reduction,
                bool subsample_distinct_labels,
                RankTies label_ties,
                Generator? generator,
                bool check_finite) =>
                ranksim_loss(features, labels, ranking, similarity, reduction, subsample_distinct_labels, label_ties, generator, check_finite, null);

            /// <summary>
            /// The ordinal entropy regularizer (Zhang et al., ICLR 2023) of one batch: diversity_weight * L_d + tightness_weight * L_t.
            /// See <see cref="RankSim.OrdinalEntropyLoss"/>.
            /// </summary>
            /// <param name="features">Features [B, ...] of any floating dtype and device (flattened to [B, D]); usually the penultimate layer.</param>
            /// <param name="labels">Labels [B], [B, 1] or [B, K], integer or floating, on the features' device.</param>
            /// <param name="diversity_weight">Weight of the diversity term, in [0, 1e6] (default 1).</param>
            /// <param name="tightness_weight">Weight of the tightness term, in [0, 1e6] (default 1).</param>
            /// <param name="check_finite">Reject NaN or infinite inputs (default true).</param>
            /// <returns>A 0-dim tensor (float64 for float64 features, float32 otherwise).</returns>
            /// <exception cref="ArgumentException">Inputs that do not fit (see <see cref="RankSim.OrdinalEntropyLoss.forward"/>) or a weight out of range.</exception>
            public static Tensor ordinal_entropy_loss(
                Tensor features, Tensor labels, double diversity_weight = 1.0, double tightness_weight = 1.0, bool check_finite = true) =>
                RankSim.OrdinalEntropyLoss.Compute(features, labels, diversity_weight, tightness_weight, check_finite);

            /// <summary>
            /// Normalized descending ranks with the blackbox gradient, the reference's <c>TrueRanker.apply(scores, lambda_val)</c>;
            /// see <see cref="RankSim.BlackboxRanker"/>.
            /// </summary>
            /// <param name="scores">Floating-point scores, [N] or [R, N], finite, on any device.</param>
            /// <param name="interpolation_lambda">Interpolation strength lambda of the backward pass, in (0, 1e30] (default 2).</param>
            /// <returns>Ranks in {1/N, ..., 1}, the shape of the scores.</returns>
            /// <exception cref="ArgumentException">A tensor that does not fit, or lambda out of range.</exception>
            public static Tensor blackbox_rank(Tensor scores, double interpolation_lambda = 2.0) =>
                BlackboxRank.Apply(scores, interpolation_lambda, nameof(interpolation_lambda));

            /// <summary>
            /// Soft ranks (Blondel et al., ICML 2020, quadratic regularization), by default as
            /// <c>torchsort.soft_rank(values, regularization_strength=1.0)</c>; see <see cref="RankSim.SoftRanker"/>.
            /// </summary>
            /// <param name="values">Floating-point values, [N] or [R, N], finite, on any device.</param>
            /// <param name="regularization_strength">epsilon in [1e-30, 1e30], in the units of the values (default 1).</param>
            /// <param name="descending">Rank the largest value first (default false, torchsort's).</param>
            /// <param name="normalized">Divide the ranks by N (default false, torchsort's).</param>
            /// <returns>Soft ranks, the shape of the values.</returns>
            /// <exception cref="ArgumentException">A tensor that does not fit, or epsilon out of range.</exception>
            public static Tensor soft_rank(Tensor values, double regularization_strength = 1.0, bool descending = false, bool normalized = false) =>
                RankSim.SoftRanker.Rank(values, regularization_strength, descending, normalized);

            /// <summary>Weighted squared error, the reference's <c>weighted_mse_loss</c>; see <see cref="Dir.WeightedMSELoss"/>.</summary>
            /// <param name="input">Predictions [B] or [B, ...], floating.</param>
            /// <param name="target">Targets of the same shape.</param>
            /// <param name="weights">Per-sample weights [B] (or one per element), or null for unweighted.</param>
            /// <param name="reduction">Mean (default), Sum, or None.</param>
            /// <returns>A 0-dim tensor under Mean and Sum; element-wise losses under None.</returns>
            /// <exception cref="ArgumentException">Inputs that do not fit, or a loss that overflows the dtype.</exception>
            public static Tensor weighted_mse_loss(Tensor input, Tensor target, Tensor? weights = null, Reduction reduction = Reduction.Mean) =>
                Dir.WeightedMSELoss.Compute(input, target, weights, reduction);

            /// <summary>Weighted absolute error, the reference's <c>weighted_l1_loss</c>; see <see cref="Dir.WeightedL1Loss"/>.</summary>
            /// <param name="input">Predictions [B] or [B, ...], floating.</param>
            /// <param name="target">Targets of the same shape.</param>
            /// <param name="weights">Per-sample weights [B] (or one per element), or null for unweighted.</param>
            /// <param name="reduction">Mean (default), Sum, or None.</param>
            /// <returns>A 0-dim tensor under Mean and Sum; element-wise losses under None.</returns>
            /// <exception cref="ArgumentException">Inputs that do not fit, or a loss that overflows the dtype.</exception>
            public static Tensor weighted_l1_loss(Tensor input, Tensor target, Tensor? weights = null, Reduction reduction = Reduction.Mean) =>
                Dir.WeightedL1Loss.Compute(input, target, weights, reduction);

            /// <summary>Weighted Huber loss, the reference's <c>weighted_huber_loss</c>; see <see cref="Dir.WeightedHuberLoss"/>.</summary>
            /// <param name="input">Predictions [B] or [B, ...], floating.</param>
            /// <param name="target">Targets of the same shape.</param>
            /// <param name="weights">Per-sample weights [B] (or one per element), or null for unweighted.</param>
            /// <param name="beta">Threshold between the quadratic and the linear part, &gt; 0 (default 1).</param>
            /// <param name="reduction">Mean (default), Sum, or None.</param>
            /// <returns>A 0-dim tensor under Mean and Sum; element-wise losses under None.</returns>
            /// <exception cref="ArgumentException">Inputs that do not fit, beta out of range, or a loss that overflows the dtype.</exception>
            public static Tensor weighted_huber_loss(
                Tensor input, Tensor target, Tensor? weights = null, double beta = 1.0, Reduction reduction = Reduction.Mean) =>
                Dir.WeightedHuberLoss.Compute(input, target, weights, beta, reduction);

            /// <summary>Weighted Focal-R on the absolute error, the reference's <c>weighted_focal_l1_loss</c>; see <see cref="Dir.FocalRLoss"/>.</summary>
            /// <param name="input">Predictions [B] or [B, ...], floating.</param>
            /// <param name="target">Targets of the same shape.</param>
            /// <param name="weights">Per-sample weights [B] (or one per element), or null for unweighted.</param>
            /// <param name="activate">Sigmoid (default) or tanh.</param>
            /// <param name="beta">Scale of |e| inside the modulation, in (0, 1e30] (default 0.2).</param>
            /// <param name="gamma">Exponent of the modulation, in [0, 1000] (default 1).</param>
            /// <param name="reduction">Mean (default), Sum, or None.</param>
            /// <returns>A 0-dim tensor under Mean and Sum; element-wise losses under None.</returns>
            /// <exception cref="ArgumentException">Inputs that do not fit, options out of range, or a loss that overflows the dtype.</exception>
            public static Tensor weighted_focal_l1_loss(
                Tensor input,
                Tensor target,
                Tensor? weights = null,
                FocalRActivation activate = FocalRActivation.Sigmoid,
                double beta = 0.2,
                double gamma = 1.0,
                Reduction reduction = Reduction.Mean) =>
                Dir.FocalRLoss.Compute(input, target, weights, FocalRBase.L1, activate, beta, gamma, reduction);

            /// <summary>Weighted Focal-R on the squared error, the reference's <c>weighted_focal_mse_loss</c>; see <see cref="Dir.FocalRLoss"/>.</summary>
            /// <param name="input">Predictions [B] or [B, ...], floating.</param>
            /// <param name="target">Targets of the same shape.</param>
            /// <param name="weights">Per-sample weights [B] (or one per element), or null for unweighted.</param>
            /// <param name="activate">Sigmoid (default) or tanh.</param>
            /// <param name="beta">Scale of |e| inside the modulation, in (0, 1e30] (default 0.2).</param>
            /// <param name="gamma">Exponent of the modulation, in [0, 1000] (default 1).</param>
            /// <param name="reduction">Mean (default), Sum, or None.</param>
            /// <returns>A 0-dim tensor under Mean and Sum; element-wise losses under None.</returns>
            /// <exception cref="ArgumentException">Inputs that do not fit, options out of range, or a loss that overflows the dtype.</exception>
            public static Tensor weighted_focal_mse_loss(
                Tensor input,
                Tensor target,
                Tensor? weights = null,
                FocalRActivation activate = FocalRActivation.Sigmoid,
                double beta = 0.2,
                double gamma = 1.0,
                Reduction reduction = Reduction.Mean) =>
                Dir.FocalRLoss.Compute(input, target, weights, FocalRBase.MSE, activate, beta, gamma, reduction);

            /// <summary>
            /// Balanced MSE, batch-based Monte-Carlo, for a given noise variance: the reference's <c>bmc_loss(pred, target,
            /// noise_var)</c> and, for [B, K] predictions, <c>bmc_loss_md</c>; see <see cref="Dir.BMCLoss"/>.
            /// </summary>
            /// <param name="input">Predictions [B], [B, 1] or [B, K], floating, B &gt;= 2.</param>
            /// <param name="target">Targets, the same values per sample ([B, K] for K-dimensional predictions).</param>
            /// <param name="noise_var">The noise variance sigma^2 (one value, &gt; 0, any floating dtype; differentiable, e.g. a parameter squared). The loss is computed in float64; <see cref="Dir.BMCLoss"/> squares its float32 sigma in float64.</param>
            /// <returns>A 0-dim tensor in the predictions' dtype.</returns>
            /// <exception cref="ArgumentException">Inputs that do not fit, a variance that is not positive, or a loss that overflows the dtype.</exception>
            public static Tensor bmc_loss(Tensor input, Tensor target, Tensor noise_var)
            {
                BalancedMSELoss.ValidatePair(input, target, minimumBatch: 2, multiDimensional: true, nameof(bmc_loss));
                BalancedMSELoss.ValidateNoiseVariance(noise_var, input);
                using var scope = NewDisposeScope();
                return Dir.BMCLoss.Formula(input, target, noise_var.reshape([])).MoveToOuterDisposeScope();
            }

            /// <summary>
            /// Balanced MSE with a Gaussian-mixture label prior, for a given noise variance: the reference's
            /// <c>gai_loss(pred, target, gmm, noise_var)</c>; see <see cref="Dir.GAILoss"/>.
            /// </summary>
            /// <param name="input">Predictions [B] or [B, 1], floating.</param>
            /// <param name="target">Targets, one per prediction.</param>
            /// <param name="gmm">The mixture fitted to the training labels.</param>
            /// <param name="noise_var">The noise variance sigma^2 (one value, &gt; 0, any floating dtype; differentiable). The loss is computed in float64.</param>
            /// <returns>A 0-dim tensor in the predictions' dtype.</returns>
            /// <exception cref="ArgumentException">Inputs that do not fit, a variance that is not positive, or a loss that overflows the dtype.</exception>
            public static Tensor gai_loss(Tensor input, Tensor target, GaussianMixture gmm, Tensor noise_var)
            {
                ArgumentNullException.ThrowIfNull(gmm);
                BalancedMSELoss.ValidatePair(input, target, minimumBatch: 1, multiDimensional: false, nameof(gai_loss));
                BalancedMSELoss.ValidateNoiseVariance(noise_var, input);
                using var scope = NewDisposeScope();
                return Dir.GAILoss.Formula(input, target, gmm, noise_var.reshape([])).MoveToOuterDisposeScope();
            }
        }
    }
}
#pragma warning restore CS8981, CA1707, IDE1006
