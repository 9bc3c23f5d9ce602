using RankSim.Autograd;
using static TorchSharp.torch;

namespace RankSim;

/// <summary>
/// The ordinal entropy loss <see cref="OrdinalEntropyLoss"/> of features z [B, D] (float32 or float64) as one custom
/// autograd function with its gradient written out: the passes over [B, D] are what a call costs, and autograd's
/// generic graph of the same formula (normalize's backward above all) makes about twice as many. With
/// n = z / max(|z|, eps) (the norm taken as in <see cref="GramFunction"/>, so it neither overflows nor underflows),
/// centers c, e_i the unit vector of n_i - c(y_i) (0 at distance 0), E_m the sum of e_i over label m with count k_m, and
/// Q_mk = w_mk / |c_m - c_k| (0 at distance 0):
/// dL/dc_m = -2 a / (M (M - 1)) * (c_m sum_k Q_mk - sum_k Q_mk c_k),
/// dL/dn_i = b / B * e_i + (dL/dc_m(i) - b / B * E_m(i)) / k_m(i), and
/// dL/dz_i = (dL/dn_i - n_i (n_i . dL/dn_i)) / max(|z_i|, eps)
/// (a, b the diversity and tightness weights; for an all-zero row n = 0 and this is dL/dn / eps).
/// </summary>
internal sealed class OrdinalEntropyFunction : autograd.SingleTensorFunction<OrdinalEntropyFunction>
{
    private const string DiversityKey = "diversity";
    private const string TightnessKey = "tightness";

    public override string Name => nameof(OrdinalEntropyFunction);

    /// <summary>
    /// The loss [] of features z [B, D] (float32 or float64) whose samples fall into M label groups: inverse (int64 [B], the
    /// group of each sample), counts (z's dtype [M]) and the scaled label distances W (z's dtype [M, M], symmetric, zero diagonal).
    /// </summary>
    public static Tensor Apply(Tensor z, Tensor inverse, Tensor counts, Tensor labelWeights, double diversityWeight, double tightnessWeight) =>
        apply(z, inverse, counts, labelWeights, diversityWeight, tightnessWeight);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var z = (Tensor)vars[0];
        var inverse = (Tensor)vars[1];
        var counts = (Tensor)vars[2];
        var labelWeights = (Tensor)vars[3];
        double diversityWeight = (double)vars[4];
        double tightnessWeight = (double)vars[5];
        using var scope = NewDisposeScope();
        long batch = z.size(0), groups = counts.size(0);

        // n = z / max(|z|, eps), |z| = s |z / s| with s the row's largest magnitude: denominator * s = max(|z|, eps).
        var scale = SimilarityMatrix.RowScale(z);
        var n = z.detach() / scale;
        var denominator = n.norm(1, keepdim: true).maximum(scale.reciprocal().mul_(SimilarityMatrix.NormalizationEpsilon));
        n.div_(denominator);

        var centers = GroupSums(n, inverse, groups).div_(counts.unsqueeze(1));

        // Tightness: distances to the own center, and their unit vectors.
        var difference = centers.index_select(0, inverse).neg_().add_(n);
        var distance = difference.norm(1, keepdim: true);
        var units = difference.div_(NonZero(distance));
        var tightness = distance.sum() / batch;

        // Diversity: center distances from the Gram matrix of the centered centers, zero on the diagonal.
        var centered = centers.sub_(centers.mean([0], keepdim: true));
        var gram = centered.mm(centered.t());
        var norms = gram.diagonal();
        var between = (norms.unsqueeze(1) + norms.unsqueeze(0)).add_(gram, alpha: -2)
            .masked_fill_(eye(groups, dtype: ScalarType.Bool, device: n.device), 0.0)
            .clamp_min_(0.0)
            .sqrt_();
        long pairs = Math.Max(groups * (groups - 1), 1);
        var diversity = (labelWeights * between).sum().neg_().div_(pairs);
        var ratios = labelWeights.div(NonZero(between)).masked_fill_(between.eq(0.0), 0.0);

        ctx.save_data(DiversityKey, diversityWeight);
        ctx.save_data(TightnessKey, tightnessWeight);
        ctx.save_for_backward([
            n.MoveToOuterDisposeScope(), denominator.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope(), units.MoveToOuterDisposeScope(),
            centered.MoveToOuterDisposeScope(), ratios.MoveToOuterDisposeScope(), inverse, counts]);
        return (diversity.mul_(diversityWeight) + tightness.mul_(tightnessWeight)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The rows of <paramref name="rows"/> [B, D] summed by group (int64 [B] in [0, groups)): [groups, D]. A scatter-add
    /// with the index broadcast along D, one pass (index_add along dim 0 runs one operation per row on the CPU).
    /// </summary>
    private static Tensor GroupSums(Tensor rows, Tensor groupOf, long groups) =>
        zeros(groups, rows.size(1), dtype: rows.dtype, device: rows.device).scatter_add_(0, groupOf.unsqueeze(1).expand(rows.size(0), rows.size(1)), rows);

    /// <summary>The values with each 0 replaced by 1: a divisor for quantities that are 0 wherever the values are.</summary>
    internal static Tensor NonZero(Tensor values) => values.masked_fill(values.eq(0.0), 1.0);

    /// <summary>dL/dz [B, D], inside <see cref="BackwardGuard.Run"/>; the upstream gradient made dense in z's dtype.</summary>
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        BackwardGuard.Run(Name, 6, () =>
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var (n, denominator, scale, units, centered, ratios, inverse, counts) =
                (saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], saved[6], saved[7]);
            var upstream = BackwardGuard.Dense(grad_output, n.dtype);
            if (upstream is null)
            {
                return [null!, null!, null!, null!, null!, null!];
            }

            double diversityWeight = (double)ctx.get_data(DiversityKey);
            double tightnessWeight = (double)ctx.get_data(TightnessKey);
            long batch = n.size(0), groups = centered.size(0);
            double perSample = tightnessWeight / batch;

            // Per center: the diversity gradient minus the tightness pull of its members, shared among them.
            var pull = GroupSums(units, inverse, groups);
            var centerGradient = ratios.sum(1, keepdim: true).mul(centered).sub_(ratios.mm(centered))
                .mul_(-2.0 * diversityWeight / Math.Max(groups * (groups - 1), 1))
                .add_(pull, alpha: -perSample)
                .div_(counts.unsqueeze(1))
                .mul_(upstream);

            // Every step over [B, D] reads or writes the gradient once: the upstream factor is applied to the [M, D]
            // centers and to the tightness term's scalar, the normalization's two divisions are one [B, 1] factor.
            var gradient = centerGradient.index_select(0, inverse).addcmul_(units, upstream, value: perSample);
            var along = (gradient * n).sum(1, keepdim: true);
            gradient = gradient.addcmul_(n, along, value: -1).mul_(denominator.reciprocal().div_(scale));
            return [gradient.MoveToOuterDisposeScope(), null!, null!, null!, null!, null!];
        });
}
