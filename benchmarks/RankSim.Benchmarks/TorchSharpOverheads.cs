using System.Diagnostics;
using static TorchSharp.torch;

namespace RankSim.Benchmarks;

/// <summary>
/// What a few TorchSharp habits cost on this machine, one thread: reading a size by <c>shape</c> or by <c>size(dim)</c>,
/// and a custom autograd function (an identity) against none in a forward + backward on a fresh leaf. The best of five
/// rounds of 20,000 calls each, after 2,000 warm-up calls, in microseconds per call.
/// </summary>
internal static class TorchSharpOverheads
{
    public static void Run()
    {
        set_num_threads(1);
        var values = randn(64, 512, generator: new Generator(1));
        Report("read a size: shape[0]", () => _ = values.shape[0]);
        Report("read a size: size(0)", () => _ = values.size(0));
        Report("fresh leaf: sum, backward", () => Step(0));
        Report("fresh leaf: custom identity, sum, backward", () => Step(1));
        Report("fresh leaf: two custom identities, sum, backward", () => Step(2));

        void Step(int identities)
        {
            using var scope = NewDisposeScope();
            var output = values.detach().requires_grad_();
            for (int k = 0; k < identities; k++)
            {
                output = Identity.apply(output);
            }

            output.sum().backward();
        }
    }

    private static void Report(string name, Action call)
    {
        const int calls = 20_000;
        for (int i = 0; i < 2_000; i++)
        {
            call();
        }

        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < calls; i++)
            {
                call();
            }

            best = Math.Min(best, watch.Elapsed.TotalMilliseconds * 1000 / calls);
        }

        Console.WriteLine($"  {name,-52} {best,8:F2} us");
    }

    /// <summary>The identity as a custom autograd function: its output and its gradient are aliases of its input's.</summary>
    private sealed class Identity : autograd.SingleTensorFunction<Identity>
    {
        public override string Name => nameof(Identity);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).alias();

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => [grad_output.alias()];
    }
}
