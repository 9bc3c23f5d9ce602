namespace RankSim;

/// <summary>How equal values within one row share ranks: the <c>labelTies</c> option of <see cref="RankSimLoss"/>, for equal label distances.</summary>
public enum RankTies
{
    /// <summary>
    /// Equal values are ranked in index order (the earlier column gets the smaller rank), so every row's ranks are a
    /// permutation of {1/N, ..., N/N}. Deterministic and the cheapest; the default.
    /// </summary>
    IndexOrder,

    /// <summary>Equal values share the mean of the ranks they occupy (for example two values tied for ranks 2 and 3 both get 2.5).</summary>
    Average,
}
