using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// A faithful TorchSharp port of the reference RankSim structure, kept here as the benchmark baseline only: the
/// one-per-label sampling loops over the distinct labels (one host synchronization each); the loss loops over the
/// anchors with, per anchor, one ranker call on a [1, M] row, one label ranking and one MSE. Ranks are computed as the
/// reference does, as an argsort of an argsort.
/// </summary>
internal static class LoopBaseline
{
    public static Tensor Loss(Tensor features, Tensor labels, double lambda, Generator generator)
    {
        var flat = features.reshape(features.shape[0], -1);
        var values = labels.unique().Item1;
        var kept = new List<long>();
        foreach (double value in values.to(ScalarType.Float64).data<double>().ToArray())
        {
            var members = labels.eq(value).nonzero().squeeze(1);
            var pick = randint(0, members.shape[0], 1, generator: generator).item<long>();
            kept.Add(members[pick].item<long>());
        }

        var index = tensor(kept.ToArray());
        var f = flat.index_select(0, index);
        var y = labels.index_select(0, index).to(ScalarType.Float32).unsqueeze(1);
        var normalized = nn.functional.normalize(f, dim: 1);
        var featureSimilarity = normalized.mm(normalized.t());

        var loss = zeros(1);
        for (long i = 0; i < f.shape[0]; i++)
        {
            var labelRanks = RankNormalized(-(y[i] - y).abs().t());
            var featureRanks = ReferenceRanker.apply(featureSimilarity[TensorIndex.Slice(i, i + 1)], lambda);
            loss = loss + nn.functional.mse_loss(featureRanks, labelRanks);
        }

        return loss;
    }

    /// <summary>(rank + 1) / N along the last dimension, descending, by argsort of argsort.</summary>
    private static Tensor RankNormalized(Tensor sequence)
    {
        var ranks = sequence.argsort(-1, descending: true).argsort(-1) + 1;
        return ranks.to(ScalarType.Float32) / sequence.shape[^1];
    }

    /// <summary>The reference ranker: argsort-of-argsort ranks forward, blackbox interpolation backward.</summary>
    private sealed class ReferenceRanker : autograd.SingleTensorFunction<ReferenceRanker>
    {
        public override string Name => nameof(ReferenceRanker);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var sequence = (Tensor)vars[0];
            var ranks = RankNormalized(sequence);
            ctx.save_for_backward([sequence, ranks]);
            ctx.save_data("lambda", (double)vars[1]);
            return ranks;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            var saved = ctx.get_saved_variables();
            double lambda = (double)ctx.get_data("lambda");
            var perturbedRanks = RankNormalized(saved[0] + lambda * grad_output);
            return [-(saved[1] - perturbedRanks) / (lambda + 1e-8), null!];
        }
    }
}
