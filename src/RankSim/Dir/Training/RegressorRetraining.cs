using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RankSim.Dir;

/// <summary>
/// Regressor re-training (RRT; DIR, ICML 2021, Sec. 5): a two-stage recipe. Stage one trains the whole model as usual
/// (with or without RankSim, LDS, FDS). Stage two keeps the learned encoder fixed and trains only a freshly initialized
/// last layer (the regressor), usually with re-weighted losses (for example <see cref="LabelDistribution.Reweight"/>
/// weights in <see cref="WeightedL1Loss"/>):
/// <code>
/// var trainable = RegressorRetraining.Prepare(model, model.Regressor);
/// var optimizer = torch.optim.Adam(trainable, lr: 1e-3);   // then train again with re-weighting
/// </code>
/// </summary>
public static class RegressorRetraining
{
    /// <summary>
    /// Freezes every parameter of <paramref name="model"/> except those of <paramref name="regressor"/>, re-initializes the
    /// regressor as a fresh <see cref="Linear"/> layer (weight and bias uniform in +-1/sqrt(in_features)) and returns the
    /// regressor's parameters, the only ones stage two trains.
    /// </summary>
    /// <param name="model">The whole model from stage one.</param>
    /// <param name="regressor">Its last linear layer; must be a submodule of <paramref name="model"/>.</param>
    /// <param name="generator">Random generator for the re-initialization; null uses TorchSharp's default.</param>
    /// <returns>The regressor's parameters (weight, and bias where present), with requires_grad set.</returns>
    /// <exception cref="ArgumentException">The regressor is not part of the model.</exception>
    public static IReadOnlyList<Parameter> Prepare(nn.Module model, Linear regressor, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(regressor);
        var regressorParameters = regressor.parameters().ToList();
        var regressorHandles = regressorParameters.Select(p => p.Handle).ToHashSet();
        var modelParameters = model.parameters().ToList();
        if (!regressorHandles.All(h => modelParameters.Any(p => p.Handle == h)))
        {
            throw new ArgumentException("regressor is not a submodule of model: its parameters are not among the model's.", nameof(regressor));
        }

        foreach (var parameter in modelParameters)
        {
            parameter.requires_grad = regressorHandles.Contains(parameter.Handle);
        }

        using (no_grad())
        {
            double bound = 1.0 / Math.Sqrt(regressor.weight!.size(1));
            regressor.weight.uniform_(-bound, bound, generator);
            regressor.bias?.uniform_(-bound, bound, generator);
        }

        return regressorParameters;
    }
}
