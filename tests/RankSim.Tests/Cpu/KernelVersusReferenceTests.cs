using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Tests.Cpu;

/// <summary>
/// The CPU primitives against the tensor-operation formulas that run on other devices: each formula's autograd function
/// called once with the kernels on, once on the reference path (the choice is made in forward and followed by backward).
/// </summary>
public class KernelVersusReferenceTests
{
    /// <summary>Runs <paramref name="call"/> on the device-agnostic tensor path.</summary>
    private static Tensor OnReferencePath(Func<Tensor> call)
    {
        using var path = CpuKernels.UseReferencePath();
        return call();
    }

    /// <summary>
    /// The objective composed of its parts: blackbox ranks (<see cref="BlackboxRank.BlackboxRankFunction"/>) followed by the
    /// squared rank differences (<see cref="RankSimObjective.FromRanks"/>), on the reference path.
    /// </summary>
    private static Tensor Composed(Tensor similarity, Tensor labelRanks, double lambda, Reduction reduction, PerturbationScaling scaling) =>
        OnReferencePath(() => RankSimObjective.FromRanks(
            BlackboxRank.BlackboxRankFunction.Apply(similarity, lambda, scaling == PerturbationScaling.PerRow), labelRanks, reduction));

    [Theory]
    [InlineData(Reduction.Sum, 2.0, 7, false)]
    [InlineData(Reduction.Mean, 2.0, 40, false)]
    [InlineData(Reduction.None, 0.5, 300, false)]
    [InlineData(Reduction.Sum, 100.0, 300, false)]
    [InlineData(Reduction.Mean, 2.0, 600, false)]
    [InlineData(Reduction.Sum, 2.0, 7, true)]
    [InlineData(Reduction.Mean, 2.0, 40, true)]
    [InlineData(Reduction.None, 0.5, 300, true)]
    [InlineData(Reduction.Sum, 100.0, 300, true)]
    public void TheObjectiveEqualsBlackboxRankFollowedByTheSquaredDifferences(Reduction reduction, double lambda, int m, bool referencePath)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)m);
        var similarity = randn(m, m, generator: generator);
        var labelRanks = Ranks.Ascending(rand(m, m, generator: generator), RankTies.IndexOrder);
        var upstream = reduction == Reduction.None ? rand(m, generator: generator) : tensor(1.7f);

        var input = similarity.clone().requires_grad_();
        using (CpuKernels.UseReferencePath(referencePath))
        {
            var loss = RankSimObjective.Blackbox(input, labelRanks, lambda, reduction, PerturbationScaling.Paper);
            loss.backward([upstream]);
            var composedInput = similarity.clone().requires_grad_();
            var composed = Composed(composedInput, labelRanks, lambda, reduction, PerturbationScaling.Paper);
            composed.backward([upstream]);

            loss.shape.Should().Equal(composed.shape);
            loss.Doubles().Zip(composed.Doubles(), (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-6);
            input.grad!.Doubles().Zip(composedInput.grad!.Doubles(), (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-6);
            input.grad!.Doubles().Should().Contain(v => v != 0, "the upstream gradient moves some ranks");
        }
    }

    /// <summary>
    /// The objective's CPU kernel reading the label ranks row by row from the labels (never holding RL [M, M]) gives, bit
    /// for bit, the loss and gradient of the kernel given the label-rank matrix and of the tensor formulas: float32 and
    /// float64 labels, repeated labels and symmetric distances (ties), both tie rules, odd M, one and two threads.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float32, RankTies.IndexOrder, 301, 1, Reduction.Sum)]
    [InlineData(ScalarType.Float64, RankTies.IndexOrder, 300, 2, Reduction.None)]
    [InlineData(ScalarType.Float32, RankTies.Average, 257, 2, Reduction.Mean)]
    [InlineData(ScalarType.Float64, RankTies.Average, 5, 1, Reduction.Sum)]
    [InlineData(ScalarType.Float32, RankTies.IndexOrder, 1, 1, Reduction.Sum)]
    public void TheObjectiveReadsLabelRanksFromTheLabelsAsFromTheirMatrix(ScalarType labelDtype, RankTies ties, int m, int threads, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        int previousThreads = get_num_threads();
        set_num_threads(threads);
        try
        {
            var generator = new Generator((ulong)m + 7);
            var similarity = (randn(m, m, generator: generator) * 4).round() / 4;
            var labels = (rand(m, 1, generator: generator) * 20).round().to(labelDtype);   // repeats and mirrored distances
            var upstream = reduction == Reduction.None ? rand(m, generator: generator) : tensor(1e-3f);
            var fromLabels = LabelRankMatrix.FromLabels(labels, ties, integerLabels: false);
            fromLabels.Backend.Should().BeSameAs(CpuKernelBackend.Instance, "the kernels rank these labels");
            using var matrix = fromLabels.ToMatrix(ScalarType.Float32);

            (double[] Loss, double[] Gradient) Run(Func<Tensor, Tensor> objective)
            {
                var input = similarity.clone().requires_grad_();
                var loss = objective(input);
                loss.backward([upstream]);
                return (loss.Doubles(), input.grad!.Doubles());
            }

            var byRows = Run(s => RankSimObjective.Blackbox(s, fromLabels, 2.0, reduction, PerturbationScaling.Paper));
            var byMatrix = Run(s => RankSimObjective.Blackbox(s, matrix, 2.0, reduction, PerturbationScaling.Paper));
            var reference = Run(s => OnReferencePath(() => RankSimObjective.Blackbox(s, LabelRankMatrix.FromLabels(labels, ties, false), 2.0, reduction, PerturbationScaling.Paper)));

            byRows.Loss.Should().Equal(byMatrix.Loss);
            byRows.Gradient.Should().Equal(byMatrix.Gradient);
            byRows.Gradient.Should().Equal(reference.Gradient);
            byRows.Loss.Zip(reference.Loss, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-5);
            if (m > 1)
            {
                byRows.Gradient.Should().Contain(v => v != 0, "the upstream gradient moves some ranks");
            }
        }
        finally
        {
            set_num_threads(previousThreads);
        }
    }

    /// <summary>
    /// The objective's CPU kernel and its tensor formulas (what CUDA runs) give, bit for bit, the same gradient, with the
    /// paper's and per-row perturbation strengths, ties and a constant row included; the losses agree to float32 rounding
    /// (the kernel sums the squares in float64).
    /// </summary>
    [Theory]
    [InlineData(Reduction.Sum, 2.0, 7, PerturbationScaling.Paper)]
    [InlineData(Reduction.Mean, 2.0, 40, PerturbationScaling.Paper)]
    [InlineData(Reduction.None, 0.5, 300, PerturbationScaling.Paper)]
    [InlineData(Reduction.Sum, 0.5, 57, PerturbationScaling.PerRow)]
    [InlineData(Reduction.None, 2.0, 300, PerturbationScaling.PerRow)]
    public void TheObjectivesKernelAndTensorFormulasGiveTheSameGradient(Reduction reduction, double lambda, int m, PerturbationScaling scaling)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)m + 1);
        var similarity = (randn(m, m, generator: generator) * 4).round() / 4;
        similarity[1] = 0.5f;
        var labelRanks = Ranks.Ascending(rand(m, m, generator: generator), RankTies.IndexOrder);
        var upstream = reduction == Reduction.None ? rand(m, generator: generator) : tensor(1e-3f);

        var kernelInput = similarity.clone().requires_grad_();
        var kernelLoss = RankSimObjective.Blackbox(kernelInput, labelRanks, lambda, reduction, scaling);
        kernelLoss.backward([upstream]);
        var referenceInput = similarity.clone().requires_grad_();
        var referenceLoss = OnReferencePath(() => RankSimObjective.Blackbox(referenceInput, labelRanks, lambda, reduction, scaling));
        referenceLoss.backward([upstream]);

        kernelLoss.Doubles().Zip(referenceLoss.Doubles(), (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-5);
        var kernel = kernelInput.grad!.Doubles();
        var reference = referenceInput.grad!.Doubles();

        // With per-row strengths, bit for bit as well: the strengths are summed in float64 in a different order on each path,
        // but are used only after rounding to float32 (lambda_i * g, and lambda_i + 1e-8), where a last-bit float64
        // difference almost never shows.
        kernel.Should().Equal(reference);
        kernel.Should().Contain(v => v != 0);
    }

    /// <summary>
    /// A NaN or an infinite upstream gradient of an anchor's loss makes that anchor's row of dL/dS NaN on both paths, and
    /// only that row; a huge finite one does not.
    /// </summary>
    [Theory]
    [InlineData(PerturbationScaling.Paper)]
    [InlineData(PerturbationScaling.PerRow)]
    public void NonFiniteUpstreamGradientsOfAnchorsGiveNaNRowsOnBothPaths(PerturbationScaling scaling)
    {
        using var scope = NewDisposeScope();
        const int m = 23;
        var generator = new Generator(11);
        var similarity = randn(m, m, generator: generator);
        var labelRanks = Ranks.Ascending(rand(m, m, generator: generator), RankTies.IndexOrder);
        var upstream = rand(m, generator: generator);
        upstream[1] = float.NaN;
        upstream[2] = float.PositiveInfinity;
        upstream[3] = float.NegativeInfinity;
        upstream[4] = 3e38f;

        var kernelInput = similarity.clone().requires_grad_();
        RankSimObjective.Blackbox(kernelInput, labelRanks, 2.0, Reduction.None, scaling).backward([upstream]);
        var referenceInput = similarity.clone().requires_grad_();
        OnReferencePath(() => RankSimObjective.Blackbox(referenceInput, labelRanks, 2.0, Reduction.None, scaling)).backward([upstream]);

        var kernel = kernelInput.grad!.Doubles();
        kernel.Should().Equal(referenceInput.grad!.Doubles(), (a, b) => a.Equals(b), "NaN rows equal NaN rows, the rest bit for bit");
        for (int row = 0; row < m; row++)
        {
            var values = kernel.Skip(row * m).Take(m);
            if (row is >= 1 and <= 3)
            {
                values.Should().OnlyContain(v => double.IsNaN(v), $"anchor {row}'s upstream gradient is not finite");
            }
            else
            {
                values.Should().OnlyContain(v => double.IsFinite(v), $"anchor {row}'s upstream gradient is finite");
            }
        }
    }

    /// <summary>The CPU blackbox function and the tensor one give the same ranks and, bit for bit, the same gradient.</summary>
    [Theory]
    [InlineData("float32", 50, 70, 2.0)]
    [InlineData("float32", 3, 1200, 0.3)]
    [InlineData("float64", 20, 90, 2.0)]
    [InlineData("float16", 4, 30, 5.0)]
    public void CpuBlackboxRankEqualsTheTensorFunction(string dtype, int rows, int n, double lambda)
    {
        using var scope = NewDisposeScope();
        var type = dtype switch { "float64" => ScalarType.Float64, "float16" => ScalarType.Float16, _ => ScalarType.Float32 };
        var scores = randn(rows, n, generator: new Generator(4)).to(type);
        var upstream = (randn(rows, n, generator: new Generator(5)) * 0.05).to(type == ScalarType.Float64 ? type : ScalarType.Float32);
        upstream[rows - 1, 0] = float.NaN;
        upstream[rows - 2, n - 1] = float.PositiveInfinity;

        var kernelInput = scores.clone().requires_grad_();
        var kernel = BlackboxRank.BlackboxRankFunction.Apply(kernelInput, lambda, perRow: false);
        kernel.backward([upstream]);
        var referenceInput = scores.clone().requires_grad_();
        var reference = OnReferencePath(() => BlackboxRank.BlackboxRankFunction.Apply(referenceInput, lambda, perRow: false));
        reference.backward([upstream]);

        kernel.Doubles().Should().Equal(reference.Doubles());
        kernelInput.grad!.dtype.Should().Be(type);
        var kernelGradient = kernelInput.grad!.Doubles();
        kernelGradient.Should().Equal(referenceInput.grad!.Doubles(), (a, b) => a.Equals(b), "NaN rows equal NaN rows, the rest bit for bit");
        kernelGradient.Take(n).Should().Contain(v => v != 0);
        kernelGradient.Skip((rows - 1) * n).Should().OnlyContain(v => double.IsNaN(v), "a NaN in the upstream gradient of a row makes that row NaN");
        kernelGradient.Skip((rows - 2) * n).Take(n).Should().OnlyContain(v => double.IsNaN(v), "so does an infinity, also in a row's last value");
    }

    /// <summary>
    /// The CPU soft ranks (pool-adjacent-violators) and the tensor ones (min-max formula) give, bit for bit, the same ranks
    /// and gradient: both take a block's value from the same running sums and a block's mean from its own sum, with the
    /// same float64 operations; also with infinite scores (similarities that overflowed), equal ones 0 apart.
    /// </summary>
    [Theory]
    [InlineData("float32", 50, 70, 0.1, false, true)]
    [InlineData("float32", 30, 40, 0.3, true, false)]
    [InlineData("float64", 20, 90, 0.05, false, false)]
    [InlineData("float64", 5, 300, 1.0, true, true)]
    [InlineData("float32", 6, 5, 1e-30, false, false)]
    public void CpuSoftRankEqualsTheTensorFunction(string dtype, int rows, int n, double regularization, bool ties, bool normalized)
    {
        using var scope = NewDisposeScope();
        var type = dtype == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        var scores = randn(rows, n, dtype: type, generator: new Generator(14));
        scores = ties ? (scores * 4).round() / 4 : scores;
        scores[0, 0] = float.PositiveInfinity;
        scores[0, 1] = float.PositiveInfinity;
        scores[0, 2] = float.NegativeInfinity;
        var upstream = randn(rows, n, dtype: type, generator: new Generator(15));
        upstream[rows - 1, 0] = float.NaN;

        var kernelInput = scores.clone().requires_grad_();
        var kernel = SoftRank.SoftRankFunction.Apply(kernelInput, regularization, normalized);
        kernel.backward([upstream]);
        var referenceInput = scores.clone().requires_grad_();
        var reference = OnReferencePath(() => SoftRank.SoftRankFunction.Apply(referenceInput, regularization, normalized));
        reference.backward([upstream]);

        kernel.Doubles().Should().Equal(reference.Doubles());
        kernel.Doubles().Should().OnlyContain(v => double.IsFinite(v));
        var kernelGradient = kernelInput.grad!.Doubles();
        kernelGradient.Should().Equal(referenceInput.grad!.Doubles(), (a, b) => a.Equals(b), "NaN equals NaN, the rest bit for bit");
        kernelGradient.Take(n).Should().OnlyContain(v => double.IsFinite(v));
        kernelGradient.Skip((rows - 1) * n).Should().Contain(v => double.IsNaN(v), "a NaN in the upstream gradient is passed on");
    }
}
