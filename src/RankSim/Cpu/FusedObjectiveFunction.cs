using System.Buffers;
using System.Runtime.CompilerServices;
using RankSim.Autograd;
using TorchSharp;
using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Cpu;

/// <summary>
/// <see cref="RankSimObjective.Reference"/> for float32 similarities on the CPU as one custom autograd function, the
/// same formulas computed row by row in managed code: forward RF = rk(S) and per anchor i the loss
/// mean_j (RF_ij - RL_ij)^2; backward dL/dRF_ij = c_i 2 (RF_ij - RL_ij) / M (c_i the upstream gradient of anchor i's
/// loss) and, in the same pass over the row, the blackbox gradient (<see cref="BlackboxRankRowsFunction.GradientRow"/>).
/// No libtorch operation runs between the rankings and their neighbours, and no [M, M] intermediate is written besides
/// the ranks and the gradient.
/// </summary>
internal sealed class FusedObjectiveFunction : autograd.SingleTensorFunction<FusedObjectiveFunction>
{
    private const string LambdaKey = "lambda";
    private const string ReductionKey = "reduction";
    private const string PerRowKey = "perRow";

    public override string Name => nameof(FusedObjectiveFunction);

    /// <summary>The loss for similarities S [M, M] (float32, CPU) and label ranks RL [M, M]; see <see cref="RankSimLoss"/> for the reductions.</summary>
    public static Tensor Apply(Tensor similarity, Tensor labelRanks, double lambda, Reduction reduction, PerturbationScaling scaling)
    {
        using var scope = NewDisposeScope();
        var loss = apply(similarity, RowBlocks.Contiguous(labelRanks.to(ScalarType.Float32)), lambda, reduction, scaling == PerturbationScaling.PerRow);
        return SecondBackwardCheck.Mark(loss).MoveToOuterDisposeScope();
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var similarity = RowBlocks.Contiguous((Tensor)vars[0]);
        var labelRanks = (Tensor)vars[1];
        var reduction = (Reduction)vars[3];
        int m = (int)similarity.shape[0];
        using var scope = NewDisposeScope();
        var featureRanks = empty(m, m, dtype: ScalarType.Float32, device: similarity.device);
        var perAnchor = empty(m, dtype: ScalarType.Float32, device: similarity.device);
        RowBlocks.Run(m, m, (long)m * sizeof(float), (start, count) => ForwardRows(
            RowBlocks.Rows<float>(similarity, start, count),
            RowBlocks.Rows<float>(labelRanks, start, count),
            RowBlocks.Rows<float>(featureRanks, start, count),
            RowBlocks.Rows<float>(perAnchor, 0, m).Slice((int)start, (int)count)));

        ctx.save_for_backward([similarity, featureRanks.MoveToOuterDisposeScope(), labelRanks]);
        ctx.save_data(LambdaKey, (double)vars[2]);
        ctx.save_data(ReductionKey, reduction);
        ctx.save_data(PerRowKey, (bool)vars[4]);
        var result = reduction switch
        {
            Reduction.Sum => perAnchor.sum(),
            Reduction.Mean => perAnchor.mean(),
            _ => perAnchor,
        };
        return result.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
        BackwardGuard.Run(Name, 5, () => Backward(ctx, grad_output));

    private static List<Tensor> Backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        using var scope = NewDisposeScope();
        var saved = ctx.get_saved_variables();
        var similarity = saved[0];
        var featureRanks = saved[1];
        var labelRanks = saved[2];
        double lambda = (double)ctx.get_data(LambdaKey);
        var reduction = (Reduction)ctx.get_data(ReductionKey);
        int m = (int)similarity.shape[0];
        var dense = BackwardGuard.Dense(gradOutput, ScalarType.Float32);
        if (dense is null)
        {
            return [null!, null!, null!, null!, null!];
        }

        // c_i / M for every anchor: the upstream gradient of anchor i's loss mean_j (.)^2 (one c for all under Sum and
        // Mean), over M, divided in float32 as libtorch divides a float32 tensor by a number.
        var upstream = RowBlocks.Contiguous(dense.reshape(-1));
        float divisor = (float)(reduction == Reduction.Mean ? (double)m * m : m);
        var gradient = empty_like(similarity);
        RowBlocks.Run(m, m, (long)m * sizeof(float), (start, count) => BackwardRows(
            RowBlocks.Rows<float>(similarity, start, count),
            RowBlocks.Rows<float>(featureRanks, start, count),
            RowBlocks.Rows<float>(labelRanks, start, count),
            reduction == Reduction.None ? RowBlocks.Rows<float>(upstream, start, count) : RowBlocks.Rows<float>(upstream, 0, 1),
            divisor,
            lambda,
            (bool)ctx.get_data(PerRowKey),
            m,
            RowBlocks.Rows<float>(gradient, start, count)));

        return [gradient.MoveToOuterDisposeScope(), null!, null!, null!, null!];
    }

    /// <summary>Ranks of rows of S into RF, and each row's mean squared rank difference to RL.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRows(ReadOnlySpan<float> similarity, ReadOnlySpan<float> labelRanks, Span<float> featureRanks, Span<float> losses)
    {
        int m = similarity.Length / losses.Length;
        using var ranker = new RowRanker.SingleRowRanker(m);
        for (int row = 0; row < losses.Length; row++)
        {
            var rf = featureRanks.Slice(row * m, m);
            ranker.Rank(similarity.Slice(row * m, m), rf, descending: true, RankTies.IndexOrder);
            var rl = labelRanks.Slice(row * m, m);
            double squares = 0;
            for (int j = 0; j < m; j++)
            {
                double difference = rf[j] - rl[j];
                squares += difference * difference;
            }

            losses[row] = (float)(squares / m);
        }
    }

    /// <summary>
    /// <see cref="BlackboxRank.RowStrengths"/> for one row, in float64: lambda * std(s) / mean|g| (population standard
    /// deviation), lambda where either is 0 or the ratio not finite, at most <see cref="InputValidation.MaxLambda"/>.
    /// </summary>
    private static double RowStrength(ReadOnlySpan<float> similarities, ReadOnlySpan<float> upstream, double lambda)
    {
        int m = similarities.Length;
        double mean = 0, size = 0;
        for (int j = 0; j < m; j++)
        {
            mean += similarities[j];
            size += Math.Abs((double)upstream[j]);
        }

        mean /= m;
        size /= m;
        double squares = 0;
        for (int j = 0; j < m; j++)
        {
            double deviation = similarities[j] - mean;
            squares += deviation * deviation;
        }

        double factor = Math.Sqrt(squares / m) / size;
        bool usable = squares > 0 && size > 0 && double.IsFinite(factor);
        return Math.Min((usable ? factor : 1) * lambda, InputValidation.MaxLambda);
    }

    /// <summary>
    /// For rows of S: dL/dRF = 2 (RF - RL) c_i / <paramref name="divisor"/>, with c_i from <paramref name="upstream"/> (one
    /// value a row, or a single value for all), then the blackbox gradient.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRows(
        ReadOnlySpan<float> similarity, ReadOnlySpan<float> featureRanks, ReadOnlySpan<float> labelRanks, ReadOnlySpan<float> upstream,
        float divisor, double lambda, bool perRow, int m, Span<float> gradient)
    {
        int rows = similarity.Length / m;
        using var ranker = new RowRanker.SingleRowRanker(m);
        var rankGradient = ArrayPool<float>.Shared.Rent(m);
        var perturbed = ArrayPool<float>.Shared.Rent(m);
        try
        {
            var g = rankGradient.AsSpan(0, m);
            for (int row = 0; row < rows; row++)
            {
                var rf = featureRanks.Slice(row * m, m);
                var rl = labelRanks.Slice(row * m, m);
                float scale = upstream[upstream.Length == 1 ? 0 : row] / divisor;
                for (int j = 0; j < m; j++)
                {
                    g[j] = 2f * (rf[j] - rl[j]) * scale;
                }

                var s = similarity.Slice(row * m, m);
                double strength = perRow ? RowStrength(s, g, lambda) : lambda;
                BlackboxRankRowsFunction.GradientRow(s, g, rf, strength, perturbed.AsSpan(0, m), gradient.Slice(row * m, m), ranker);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rankGradient);
            ArrayPool<float>.Shared.Return(perturbed);
        }
    }
}
