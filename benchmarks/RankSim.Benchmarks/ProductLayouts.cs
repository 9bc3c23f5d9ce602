using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// The forward product S = n n^T of the kept rows n [M, D] (float32, contiguous) in the layouts libtorch can be given,
/// next to the backward product (G + G^T) n of the same size, interleaved round by round (<see cref="InterleavedRounds"/>).
/// Shows what the second operand's layout costs inside MKL and what making it contiguous with libtorch's copy costs.
/// </summary>
internal static class ProductLayouts
{
    public static void Run(int m, int d, int threads)
    {
        set_num_threads(threads);
        using var n = nn.functional.normalize(randn(m, d, generator: new Generator(1)), dim: 1);
        using var upstream = randn(m, m, generator: new Generator(2));
        using var transposed = n.t().contiguous();
        using var sameValues = n.mm(transposed);
        using var plain = n.mm(n.t());
        Console.WriteLine($"n n^T with a contiguous transposed copy equals n.mm(n.t()) bit for bit: {sameValues.eq(plain).all().item<bool>()}");
        var contenders = new (string Name, Action Call)[]
        {
            ("n.mm(n.t())  (a transposed view)", () => { using var s = NewDisposeScope(); n.mm(n.t()); }),
            ("n.mm(nT), nT contiguous [D, M] given", () => { using var s = NewDisposeScope(); n.mm(transposed); }),
            ("n.t().contiguous()  (the copy alone)", () => { using var s = NewDisposeScope(); n.t().contiguous(); }),
            ("n.mm(n.t().contiguous())", () => { using var s = NewDisposeScope(); n.mm(n.t().contiguous()); }),
            ("(G + G^T).mm(n)  (the backward product)", () => { using var s = NewDisposeScope(); (upstream + upstream.t()).mm(n); }),
        };

        var times = InterleavedRounds.Time(contenders, rounds: 15, _ => 200, collect: true);
        Console.WriteLine($"M = {m}, D = {d}, {threads} thread(s); 15 interleaved rounds of 200 calls: median [min, max] ms per call");
        for (int k = 0; k < contenders.Length; k++)
        {
            Console.WriteLine($"  {contenders[k].Name,-44} {InterleavedRounds.Spread(times[k], "F4")}");
        }
    }
}
