using static TorchSharp.torch;

namespace RankSim.Dir;

/// <summary>Copies label tensors to the host for the small, per-dataset computations (histograms, mixtures).</summary>
internal static class LabelValues
{
    public static double[] ToDoubles(Tensor labels, string name)
    {
        InputValidation.RequireRealNumber(labels, name);
        InputValidation.RequireData(labels, name);
        if (labels.numel() == 0)
        {
            throw new ArgumentException("No labels given (an empty tensor).", name);
        }

        using var scope = NewDisposeScope();
        var values = labels.detach().reshape(-1).to(ScalarType.Float64).cpu().data<double>().ToArray();
        if (values.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException($"{name} contains NaN or infinite values.", name);
        }

        return values;
    }
}
