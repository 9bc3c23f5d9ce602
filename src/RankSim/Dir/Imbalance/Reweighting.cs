namespace RankSim.Dir;

/// <summary>How a bin's training count becomes the "effective count" whose inverse is the sample weight (DIR, ICML 2021).</summary>
public enum Reweighting
{
    /// <summary>Inverse frequency: counts clipped to [min, max] (default [5, 1000]) before inversion.</summary>
    Inverse,

    /// <summary>Square-root inverse frequency (SQINV): the square root of the counts, unclipped.</summary>
    SqrtInverse,
}
