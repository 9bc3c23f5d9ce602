using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Tests.Reliability;

/// <summary>
/// Random malformed inputs for the public API. Every call must either work or throw an ArgumentException with a message;
/// the test process must survive all of them (an exception inside an autograd backward pass would abort it).
/// </summary>
public abstract class BadInputFuzzTests(bool referencePath) : BothPaths(referencePath)
{
    private const int Calls = 1500;

    private static readonly ScalarType[] Dtypes =
    [
        ScalarType.Float32, ScalarType.Float64, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int32, ScalarType.Int64,
        ScalarType.Byte, ScalarType.Bool, ScalarType.ComplexFloat32,
    ];

    private static readonly double[] Lambdas = [2.0, 0.0, -1.0, double.NaN, double.PositiveInfinity, 1e300, 1e30, 1e-300, 0.5];

    /// <summary>A random tensor: odd shapes and dtypes, views, NaN/Inf, the meta device, gradients.</summary>
    private static Tensor RandomTensor(Random random, long batch, bool mostlyValid)
    {
        long[][] shapes = [[batch, 4], [batch], [batch, 1], [batch, 2, 3], [], [0], [batch, 0], [0, 4], [batch + 1, 4], [batch, 1, 1], [2, batch]];
        var shape = mostlyValid && random.Next(3) > 0 ? shapes[random.Next(3)] : shapes[random.Next(shapes.Length)];
        var dtype = mostlyValid && random.Next(3) > 0 ? ScalarType.Float32 : Dtypes[random.Next(Dtypes.Length)];
        Tensor t = dtype == ScalarType.Bool
            ? randint(0, 2, shape).to(ScalarType.Bool)
            : dtype == ScalarType.ComplexFloat32 ? randn(shape, dtype: ScalarType.ComplexFloat32) : (randn(shape) * 5).to(dtype);
        switch (random.Next(10))
        {
            case 0 when t.dim() == 2:
                t = t.t().contiguous().t();
                break;
            case 1 when t.dim() >= 1 && t.shape[0] > 1:
                t = cat([t, t], 0)[TensorIndex.Slice(null, null, 2)];
                break;
            case 2 when t.numel() > 0 && t.is_floating_point():
                t = t.clone();
                t.view(-1)[random.Next((int)t.numel())] = random.Next(3) switch { 0 => double.NaN, 1 => double.PositiveInfinity, _ => double.NegativeInfinity };
                break;
            case 3:
                t = empty(t.shape, dtype: t.dtype, device: torch.device("meta"));
                break;
            case 4 when t.dim() >= 1 && t.shape[0] > 0:
                t = t[TensorIndex.Slice(0, 1)].expand(t.shape);
                break;
        }

        if (t.is_floating_point() && t.device_type != DeviceType.META && random.Next(2) == 0)
        {
            t = t.detach().requires_grad_();
        }

        return t;
    }

    private static void Check(List<string> failures, string what, Action action)
    {
        try
        {
            using var scope = NewDisposeScope();
            action();
        }
        catch (ArgumentException ex) when (!string.IsNullOrWhiteSpace(ex.Message))
        {
        }
        catch (Exception ex)
        {
            failures.Add($"{what}: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
        }
    }

    [Fact]
    public void RankSimLossAndTheRankerSurviveMalformedInput()
    {
        var random = new Random(21);
        var failures = new List<string>();
        for (int call = 0; call < Calls; call++)
        {
            long batch = random.Next(1, 12);
            Check(failures, $"RankSimLoss call {call}", () =>
            {
                var loss = new RankSimLoss(
                    Lambdas[random.Next(Lambdas.Length)],
                    subsampleDistinctLabels: random.Next(2) == 0,
                    reduction: (Reduction)random.Next(4),
                    featureSimilarity: (FeatureSimilarity)random.Next(3),
                    labelTies: (RankTies)random.Next(3),
                    checkFinite: random.Next(4) > 0);
                var features = RandomTensor(random, batch, mostlyValid: true);
                var value = loss.call(features, RandomTensor(random, batch, mostlyValid: true));
                if (features.requires_grad)
                {
                    value.sum().backward();
                }
            });
            Check(failures, $"BlackboxRank call {call}", () =>
            {
                var scores = RandomTensor(random, batch, mostlyValid: true);
                var ranks = BlackboxRank.Apply(scores, Lambdas[random.Next(Lambdas.Length)]);
                if (scores.requires_grad)
                {
                    (ranks * randn_like(ranks)).sum().backward();
                }
            });
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void TheDirToolsSurviveMalformedInput()
    {
        var random = new Random(22);
        var failures = new List<string>();
        double[] numbers = [0, -1, 1, 2, 3, 5, 1e9, -1e9, double.NaN, double.PositiveInfinity, 0.5, 100];
        double Number() => numbers[random.Next(numbers.Length)];
        var distribution = LabelDistribution.FromValues([0.0, 1, 1, 2, 3, 3, 3, 4, 5, 6, 7]);
        for (int call = 0; call < Calls; call++)
        {
            long batch = random.Next(1, 12);
            Check(failures, $"KernelWindow {call}", () => new KernelWindow((KernelShape)random.Next(4), (int)Number(), Number()).MaxNormalised());
            Check(failures, $"LabelBinning {call}", () => LabelBinning.FixedWidth(Number(), Number(), (int)Number()).BinIndex(RandomTensor(random, batch, false)));
            Check(failures, $"LabelBinning.Integers {call}", () => LabelBinning.Integers((long)Number(), (long)Number()));
            Check(failures, $"LabelDistribution {call}", () => LabelDistribution.FromLabels(RandomTensor(random, batch, false))
                .Reweight((Reweighting)random.Next(3), random.Next(2) == 0 ? null : new KernelWindow(), Number(), Number()));
            Check(failures, $"LabelWeights.Lookup {call}", () => distribution.Reweight(Reweighting.SqrtInverse).Lookup(RandomTensor(random, batch, false)));
            Check(failures, $"FDS {call}", () =>
            {
                var fds = new FeatureDistributionSmoothing((long)Number(), distribution.Binning, random.Next(2) == 0 ? null : new KernelWindow(size: 3),
                    (int)Number(), (int)Number(), Number(), Number(), Number());
                fds.UpdateStatistics(RandomTensor(random, batch, true), RandomTensor(random, batch, true));
                fds.EndEpoch();
                fds.call(RandomTensor(random, batch, true), RandomTensor(random, batch, true));
            });
            Check(failures, $"losses {call}", () =>
            {
                var input = RandomTensor(random, batch, true);
                var target = RandomTensor(random, batch, true);
                var weights = random.Next(2) == 0 ? null : RandomTensor(random, batch, true);
                var losses = new List<Tensor>
                {
                    new WeightedL1Loss((Reduction)random.Next(4)).call(input, target, weights),
                    new WeightedHuberLoss(Number()).call(input, target, weights),
                    new FocalRLoss((FocalRBase)random.Next(3), (FocalRActivation)random.Next(3), Number(), Number()).call(input, target, weights),
                    new BmcLoss(Number()).call(input, target),
                };
                if (input.requires_grad)
                {
                    losses.Select(l => l.sum()).Aggregate((a, b) => a + b).backward();
                }
            });
            Check(failures, $"GaussianMixture {call}", () => GaussianMixture.Fit(RandomTensor(random, batch, false), (int)Number(), (int)Number()));
            Check(failures, $"DirEvaluator {call}", () =>
            {
                var evaluator = new DirEvaluator(new ShotSplit(distribution, Number(), Number()), Number());
                evaluator.Add(RandomTensor(random, batch, true), RandomTensor(random, batch, true));
                evaluator.Compute().ToTable();
            });
        }

        failures.Should().BeEmpty();
    }
}

/// <summary><see cref="BadInputFuzzTests"/> with the CPU kernels.</summary>
public sealed class BadInputFuzzWithKernelsTests() : BadInputFuzzTests(referencePath: false);

/// <summary><see cref="BadInputFuzzTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class BadInputFuzzOnReferencePathTests() : BadInputFuzzTests(referencePath: true);
