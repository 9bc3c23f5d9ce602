using static TorchSharp.torch;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Dir;

/// <summary>Applies optional per-sample weights to element-wise losses and reduces them (the DIR losses' convention).</summary>
internal static class WeightedReduction
{
    /// <summary>Checks prediction, target and weights before any computation.</summary>
    public static void Validate(Tensor input, Tensor target, Tensor? weights, Reduction reduction)
    {
        InputValidation.RequireDefined(reduction, nameof(reduction));
        InputValidation.RequireLive(input, nameof(input));
        InputValidation.RequireLive(target, nameof(target));
        InputValidation.RequireFloatingPoint(input, nameof(input));
        InputValidation.RequireRealNumber(target, nameof(target));
        if (!input.shape.SequenceEqual(target.shape))
        {
            throw new ArgumentException(
                $"target has shape {InputValidation.Shape(target)} but input has {InputValidation.Shape(input)}; they must match.", nameof(target));
        }

        InputValidation.RequireData(input, nameof(input));
        InputValidation.RequireData(target, nameof(target));
        InputValidation.RequireSameDevice(input, nameof(input), target, nameof(target));
        InputValidation.RequireFinite(input, nameof(input));
        InputValidation.RequireFinite(target, nameof(target));
        if (weights is null)
        {
            return;
        }

        InputValidation.RequireRealNumber(weights, nameof(weights));
        if (weights.numel() != input.numel() && !(input.dim() >= 1 && weights.numel() == input.size(0)))
        {
            throw new ArgumentException(
                $"weights must have one value per sample ({input.shape.FirstOrDefault()}) or per element ({input.numel()}); got {InputValidation.Shape(weights)}.",
                nameof(weights));
        }

        InputValidation.RequireData(weights, nameof(weights));
        InputValidation.RequireSameDevice(input, nameof(input), weights, nameof(weights));
        InputValidation.RequireFinite(weights, nameof(weights));
    }

    /// <summary>mean / sum / none of weights * loss; weights [B] broadcast over the other dimensions of a [B, ...] loss.</summary>
    public static Tensor Reduce(Tensor elementLoss, Tensor? weights, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        var loss = elementLoss;
        if (weights is not null)
        {
            var w = weights.to(elementLoss.dtype);
            w = w.numel() == elementLoss.numel()
                ? w.reshape(elementLoss.shape)
                : w.reshape([elementLoss.size(0), .. Enumerable.Repeat(1L, (int)elementLoss.dim() - 1)]);
            loss = loss * w;
        }

        var result = reduction switch
        {
            Reduction.Mean => loss.mean(),
            Reduction.Sum => loss.sum(),
            _ => loss,
        };
        InputValidation.RequireFiniteResult(result, "loss");
        return result.MoveToOuterDisposeScope();
    }
}
