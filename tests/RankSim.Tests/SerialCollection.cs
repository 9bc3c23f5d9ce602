namespace RankSim.Tests;

/// <summary>Tests that read process-wide counters (live tensors) run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial";
}
