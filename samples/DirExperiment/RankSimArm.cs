using RankSim;

namespace DirExperiment;

/// <summary>How RankSim is applied in a run: its weight gamma in the loss, the blackbox lambda and the perturbation scaling.</summary>
internal sealed record RankSimArm(double Gamma, double Lambda, PerturbationScaling Scaling)
{
    /// <summary>A short label, e.g. "PerRow g1 l0.5".</summary>
    public string Label => $"{Scaling} g{Gamma.ToString(System.Globalization.CultureInfo.InvariantCulture)} l{Lambda.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
