using System.Numerics;
using System.Runtime.CompilerServices;

namespace RankSim.Cpu;

/// <summary>
/// The normalized rank values of the CPU kernels, computed in the ranks' dtype exactly as the libtorch path computes them:
/// (p + 1) / N for position p, and ((first + last) / 2 + 1) / N for a run of ties under <see cref="RankTies.Average"/>.
/// </summary>
internal static class RankValues
{
    /// <summary>Fills table[p] = (p + 1) / N with N = table.Length, so that a kernel looks ranks up instead of dividing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill<T>(Span<T> table)
        where T : IFloatingPointIeee754<T>
    {
        var size = T.CreateTruncating(table.Length);
        for (int p = 0; p < table.Length; p++)
        {
            table[p] = T.CreateTruncating(p + 1) / size;
        }
    }

    /// <summary>The rank shared by the tied positions first..last of a row of <paramref name="n"/>.</summary>
    public static T Mean<T>(int first, int last, int n)
        where T : IFloatingPointIeee754<T> =>
        ((T.CreateTruncating(first + last) / T.CreateTruncating(2)) + T.One) / T.CreateTruncating(n);
}
