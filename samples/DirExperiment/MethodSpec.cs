namespace DirExperiment;

/// <summary>
/// A DIR method: a combination of techniques, written like "SQINV+LDS+FDS+RankSim"; OE adds the ordinal entropy
/// regularizer (<see cref="RankSim.OrdinalEntropyLoss"/>).
/// </summary>
internal sealed record MethodSpec(bool RankSim, bool SqrtInverse, bool Inverse, bool Lds, bool Fds, bool Focal, bool Bmc, bool Rrt, bool OrdinalEntropy = false)
{
    private static readonly string[] Order = ["sqinv", "inv", "lds", "fds", "focal", "bmc", "rrt", "ranksim", "oe"];

    public bool Reweights => SqrtInverse || Inverse;

    public static MethodSpec Parse(string text)
    {
        if (text.Equals("vanilla", StringComparison.OrdinalIgnoreCase))
        {
            return new MethodSpec(false, false, false, false, false, false, false, false);
        }

        var parts = text.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => p.ToLowerInvariant()).ToHashSet();
        var unknown = parts.Except(Order).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown technique(s) {string.Join(", ", unknown)} in method '{text}'; use {string.Join(", ", Order)}.");
        }

        var spec = new MethodSpec(parts.Contains("ranksim"), parts.Contains("sqinv"), parts.Contains("inv"), parts.Contains("lds"),
            parts.Contains("fds"), parts.Contains("focal"), parts.Contains("bmc"), parts.Contains("rrt"), parts.Contains("oe"));
        if (spec.SqrtInverse && spec.Inverse)
        {
            throw new ArgumentException($"Method '{text}' asks for both sqinv and inv.");
        }

        if (spec.Lds && !spec.Reweights)
        {
            throw new ArgumentException($"Method '{text}': lds smooths the re-weighting; add sqinv or inv.");
        }

        if (spec.Focal && spec.Bmc)
        {
            throw new ArgumentException($"Method '{text}' asks for two losses (focal and bmc).");
        }

        return spec;
    }

    /// <summary>Whether the method adds a feature regularizer (RankSim or OE).</summary>
    public bool Regularized => RankSim || OrdinalEntropy;

    /// <summary>The same method without its feature regularizers (RankSim and OE).</summary>
    public MethodSpec WithoutRegularizers() => this with { RankSim = false, OrdinalEntropy = false };

    /// <summary>Canonical name: Vanilla, or the techniques in a fixed order (SQINV+LDS+FDS+RankSim+OE).</summary>
    public string Name
    {
        get
        {
            var names = new List<string>();
            if (SqrtInverse)
            {
                names.Add("SQINV");
            }

            if (Inverse)
            {
                names.Add("INV");
            }

            if (Lds)
            {
                names.Add("LDS");
            }

            if (Fds)
            {
                names.Add("FDS");
            }

            if (Focal)
            {
                names.Add("Focal-R");
            }

            if (Bmc)
            {
                names.Add("BMC");
            }

            if (Rrt)
            {
                names.Add("RRT");
            }

            if (RankSim)
            {
                names.Add("RankSim");
            }

            if (OrdinalEntropy)
            {
                names.Add("OE");
            }

            return names.Count == 0 ? "Vanilla" : string.Join("+", names);
        }
    }
}
