using System.Diagnostics;

namespace RankSim.Benchmarks;

/// <summary>
/// Times contenders A, B, C, A, B, C, ... in one process: each round runs every contender once untimed, then a batch of
/// its calls timed, so the machine's noise (this VM moves 10-40% between runs) hits them alike. With
/// <c>collect</c>, a garbage collection before each batch (outside the timing) keeps one contender's leftovers
/// (forward-only graphs wait for the finalizer) from being paid by the next; it also returns native memory, so the next
/// batch starts on fresh pages, which a training loop does not do: the head-to-head comparison runs without it.
/// </summary>
internal static class InterleavedRounds
{
    /// <summary>Per contender, the time per call (ms) of each round.</summary>
    public static List<double>[] Time(IReadOnlyList<(string Name, Action Call)> contenders, int rounds, Func<int, int> callsOf, bool collect)
    {
        var times = contenders.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < contenders.Count; k++)
            {
                if (collect)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }

                contenders[k].Call();
                int calls = callsOf(k);
                var watch = Stopwatch.StartNew();
                for (int i = 0; i < calls; i++)
                {
                    contenders[k].Call();
                }

                times[k].Add(watch.Elapsed.TotalMilliseconds / calls);
            }
        }

        return times;
    }

    /// <summary>"median  [min, max]" of some values.</summary>
    public static string Spread(IEnumerable<double> values, string format)
    {
        var sorted = values.Order().ToArray();
        return $"{sorted[sorted.Length / 2].ToString(format, System.Globalization.CultureInfo.InvariantCulture),8}  [{sorted[0].ToString(format, System.Globalization.CultureInfo.InvariantCulture)}, {sorted[^1].ToString(format, System.Globalization.CultureInfo.InvariantCulture)}]";
    }
}
