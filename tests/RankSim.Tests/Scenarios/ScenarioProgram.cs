using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Tests.Scenarios;

/// <summary>
/// The test assembly's entry point, used only as a child process: <c>dotnet RankSim.Tests.dll SCENARIO</c> runs one
/// scenario that, before it was fixed, aborted or crashed the process (so it cannot run inside the test host). A
/// scenario prints one line starting with "OK" and exits 0 when the behavior is right; a managed exception exits 1;
/// an abort (134) or a segfault (139) is what the tests guard against.
/// </summary>
public static class ScenarioProgram
{
    public static int Main(string[] args)
    {
        if (args.Length != 1 || !Scenarios.TryGetValue(args[0], out var scenario))
        {
            Console.Error.WriteLine($"usage: RankSim.Tests SCENARIO, one of: {string.Join(", ", Scenarios.Keys)}");
            return 2;
        }

        try
        {
            Console.WriteLine(scenario());
            return 0;
        }
        catch (Exception exception)
        {
            Console.WriteLine($"FAILED {exception.GetType().Name}: {exception.Message}");
            return 1;
        }
    }

    public static readonly IReadOnlyDictionary<string, Func<string>> Scenarios = new Dictionary<string, Func<string>>
    {
        ["many-distinct-labels"] = ManyDistinctLabels,
        ["inplace-scores"] = InPlaceScores,
        ["inplace-float64-dot-features"] = InPlaceFloat64DotFeatures,
        ["sparse-upstream"] = SparseUpstream,
        ["second-backward"] = SecondBackward,
        ["openmp-before-libtorch"] = OpenMpBeforeLibtorch,
        ["kernels-switched-off"] = KernelsSwitchedOff,
        ["failing-backward"] = FailingBackward,
    };

    /// <summary>More distinct labels than a float32 [M, M] span can hold (M^2 * 4 bytes &gt; int.MaxValue, M &gt; 23,170).</summary>
    private static string ManyDistinctLabels()
    {
        const int m = 23_200;
        using var scope = NewDisposeScope();
        var features = randn(m, 2, generator: new Generator(1)).requires_grad_();
        var labels = arange(m, dtype: ScalarType.Float32);
        var loss = new RankSimLoss().call(features, labels);
        loss.backward();
        var gradient = features.grad!;
        bool finite = gradient.isfinite().all().item<bool>();
        double magnitude = gradient.abs().sum().item<float>();
        return finite && magnitude > 0
            ? $"OK loss {loss.item<float>():G6}, gradient finite and non-zero"
            : $"WRONG finite={finite} |gradient|={magnitude}";
    }

    /// <summary>
    /// The scores given to BlackboxRank.Apply are changed in place between forward and backward: backward must raise
    /// libtorch's own error naming them (type and shape), not abort the process; changing the result in place changes
    /// nothing of the gradient (the result is not what backward reads).
    /// </summary>
    private static string InPlaceScores()
    {
        using var scope = NewDisposeScope();
        var upstream = randn(4, 9, generator: new Generator(3));
        var input = randn(4, 9, generator: new Generator(2)).requires_grad_();
        var ranks = BlackboxRank.Apply(input, 2.0);
        using (no_grad())
        {
            input.mul_(-3).add_(1);
        }

        string scores = Catchable(() => ranks.backward([upstream]));

        var clean = randn(4, 9, generator: new Generator(2)).requires_grad_();
        BlackboxRank.Apply(clean, 2.0).backward([upstream]);
        var other = randn(4, 9, generator: new Generator(2)).requires_grad_();
        var result = BlackboxRank.Apply(other, 2.0);
        using (no_grad())
        {
            result.mul_(-3).add_(1);
        }

        result.backward([upstream]);
        bool resultUnaffected = other.grad!.Floats().SequenceEqual(clean.grad!.Floats());
        return ExpectLibTorchMessage(scores, "[4, 9]") + (resultUnaffected ? "; result changed in place: same gradient" : "; WRONG gradient after the result changed in place");
    }

    /// <summary>Float64 features with DotProduct, no row dropped (distinct labels), changed in place before backward.</summary>
    private static string InPlaceFloat64DotFeatures()
    {
        using var scope = NewDisposeScope();
        var input = randn(16, 5, dtype: ScalarType.Float64, generator: new Generator(4)).requires_grad_();
        var value = new RankSimLoss(similarity: FeatureSimilarity.DotProduct).call(input, arange(16, dtype: ScalarType.Float64));
        using (no_grad())
        {
            input.mul_(2);
        }

        return ExpectLibTorchMessage(Catchable(() => value.backward()), "[16, 5]");
    }

    private static string Catchable(Action backward)
    {
        try
        {
            backward();
            return "ran";
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return $"caught {exception.GetType().Name}: {exception.Message}";
        }
    }

    /// <summary>OK when backward raised libtorch's in-place error naming a tensor of <paramref name="shape"/>.</summary>
    private static string ExpectLibTorchMessage(string outcome, string shape) =>
        outcome.StartsWith("caught", StringComparison.Ordinal)
        && outcome.Contains("modified by an inplace operation", StringComparison.Ordinal) && outcome.Contains(shape, StringComparison.Ordinal)
            ? $"OK backward() raised libtorch's message naming the {shape} input changed in place"
            : $"WRONG {outcome.Split('\n')[0]}";

    /// <summary>A sparse upstream gradient under Reduction.None, on every path of the loss.</summary>
    private static string SparseUpstream()
    {
        using var scope = NewDisposeScope();
        var results = new List<string>();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var features = randn(12, 4, generator: new Generator(5)).to(dtype);
            var labels = arange(12, dtype: ScalarType.Float32);
            var loss = new RankSimLoss(reduction: Reduction.None);

            var dense = features.clone().requires_grad_();
            var perAnchor = loss.call(dense, labels);
            perAnchor.backward([ones_like(perAnchor)]);

            var sparse = features.clone().requires_grad_();
            var value = loss.call(sparse, labels);
            value.backward([ones_like(value).to_sparse()]);
            results.Add(sparse.grad!.eq(dense.grad!).all().item<bool>() ? $"{dtype} equal" : $"{dtype} DIFFERENT");
        }

        // The ordinal entropy loss: a sparse, a float64 and a NaN upstream gradient of its float32 value.
        var oeFeatures = randn(12, 4, generator: new Generator(9));
        var oeLabels = randint(0, 4, [12], generator: new Generator(10));
        var reference = oeFeatures.clone().requires_grad_();
        new OrdinalEntropyLoss().call(reference, oeLabels).backward();
        foreach (var (name, upstream) in new[] { ("sparse", tensor(1f).to_sparse()), ("float64", tensor(1.0)) })
        {
            var leaf = oeFeatures.clone().requires_grad_();
            new OrdinalEntropyLoss().call(leaf, oeLabels).backward([upstream]);
            results.Add(leaf.grad!.eq(reference.grad!).all().item<bool>() ? $"ordinal entropy {name} equal" : $"ordinal entropy {name} DIFFERENT");
        }

        var nanLeaf = oeFeatures.clone().requires_grad_();
        new OrdinalEntropyLoss().call(nanLeaf, oeLabels).backward([tensor(float.NaN)]);
        results.Add(nanLeaf.grad!.isnan().all().item<bool>() ? "ordinal entropy NaN upstream gives NaN" : "ordinal entropy NaN upstream DIFFERENT");

        // The public ranker too.
        var scores = randn(3, 7, generator: new Generator(6)).requires_grad_();
        BlackboxRank.Apply(scores, 2.0).backward([randn(3, 7, generator: new Generator(7)).to_sparse()]);
        results.Add(scores.grad!.isfinite().all().item<bool>() ? "ranker finite" : "ranker NOT FINITE");
        return results.All(r => !r.Contains("DIFFERENT") && !r.Contains("NOT"))
            ? "OK sparse upstream gradients give the dense result: " + string.Join(", ", results)
            : "WRONG " + string.Join(", ", results);
    }

    /// <summary>A second backward() without retain_graph: whatever happens, the process must survive it.</summary>
    private static string SecondBackward()
    {
        using var scope = NewDisposeScope();
        var outcomes = new List<string>();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var features = randn(10, 3, generator: new Generator(8)).to(dtype).requires_grad_();
            foreach (var value in new[] { new RankSimLoss().call(features, arange(10, dtype: ScalarType.Float32)), new OrdinalEntropyLoss().call(features, arange(10) % 3) })
            {
                value.backward();
                try
                {
                    value.backward();
                    outcomes.Add($"{dtype}: ran");
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    outcomes.Add($"{dtype}: {exception.GetType().Name}");
                }
            }
        }

        return "OK survived: " + string.Join(", ", outcomes);
    }

    /// <summary>
    /// The kernels' thread team is asked for before TorchSharp has loaded libtorch: nothing may be loaded by RankSim (a
    /// system libtorch_cpu.so, e.g. from python3-torch, would be picked up otherwise), and after TorchSharp's first
    /// operation the team is found.
    /// </summary>
    private static string OpenMpBeforeLibtorch()
    {
        var before = CpuBackend.Threading;
        bool loadedEarly = LibtorchIsMapped();
        using var scope = NewDisposeScope();
        var features = randn(600, 600).requires_grad_();
        new RankSimLoss().call(features, arange(600, dtype: ScalarType.Float32)).backward();
        var after = CpuBackend.Threading;
        bool expectedAfter = OperatingSystem.IsLinux() ? after == CpuThreading.LibTorchOpenMp : after == CpuThreading.ThreadPool;
        return before == CpuThreading.Undetermined && !loadedEarly && expectedAfter
            ? $"OK before libtorch: {before}, loaded by RankSim: {loadedEarly}, after: {after}"
            : $"WRONG before libtorch: {before}, loaded by RankSim: {loadedEarly}, after: {after}";
    }

    /// <summary>With the AppContext switch set before the first call, the CPU runs the reference path, with the golden numbers.</summary>
    private static string KernelsSwitchedOff()
    {
        AppContext.SetSwitch(CpuBackend.DisableKernelsSwitch, true);
        using var scope = NewDisposeScope();
        var features = randn(64, 8, generator: new Generator(9)).requires_grad_();
        var labels = randint(0, 20, [64], generator: new Generator(10)).to(ScalarType.Float32);
        var value = new RankSimLoss(generator: new Generator(11)).call(features, labels);
        value.backward();
        return !CpuBackend.KernelsEnabled && !CpuKernels.Enabled
            ? $"OK kernels off; loss {value.item<float>():R}; gradient sum {features.grad!.sum().item<float>():R}"
            : "WRONG the switch did not turn the kernels off";
    }

    /// <summary>
    /// A backward that throws inside <c>BackwardGuard.Run</c> (as any of the package's would, should a bug or exhausted
    /// memory make it throw): the caller of backward() gets a catchable exception and the process lives on.
    /// </summary>
    private static string FailingBackward()
    {
        using var scope = NewDisposeScope();
        var input = randn(3, 4).requires_grad_();
        var output = ThrowingBackwardFunction.apply(input);
        try
        {
            output.sum().backward();
            return "WRONG backward() returned normally";
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            bool kept = Autograd.BackwardGuard.LastFailure?.Message == ThrowingBackwardFunction.Message;
            input.sum().backward();
            return kept && input.grad is not null
                ? $"OK backward() threw {exception.GetType().Name}; the failure was kept; autograd still works"
                : $"WRONG kept={kept}";
        }
    }

    private sealed class ThrowingBackwardFunction : autograd.SingleTensorFunction<ThrowingBackwardFunction>
    {
        public const string Message = "deliberate failure inside backward";

        public override string Name => nameof(ThrowingBackwardFunction);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).clone();

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            Autograd.BackwardGuard.Run(Name, 1, () => throw new InvalidOperationException(Message));
    }

    private static bool LibtorchIsMapped() =>
        OperatingSystem.IsLinux() && File.ReadAllText("/proc/self/maps").Contains("libtorch_cpu", StringComparison.Ordinal);
}
