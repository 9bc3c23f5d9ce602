namespace RankSim.Tests.OrdinalEntropy;

/// <summary>
/// <see cref="OrdinalEntropyLoss"/> on both paths: values worked by hand, an independent managed implementation of the
/// definition, the gradient against central finite differences in float64, invariances, degenerate batches and dtypes.
/// </summary>
public abstract class OrdinalEntropyLossTests(bool referencePath) : BothPaths(referencePath)
{
    [Fact]
    public void MatchesTheDefinitionComputedByHand()
    {
        // Features (1, 0), (0, 1), (3, 0) -> unit rows (1, 0), (0, 1), (1, 0); labels 0, 0, 2.
        // Centers: label 0 (0.5, 0.5), label 2 (1, 0); M = 2, the one label distance is the largest: w = 1.
        // Diversity: -(1 / (2 * 1)) * (sqrt(0.5) + sqrt(0.5)) = -sqrt(0.5).
        // Tightness: (|(0.5, -0.5)| + |(-0.5, 0.5)| + 0) / 3 = 2 sqrt(0.5) / 3.
        using var scope = NewDisposeScope();
        var features = tensor(new[] { 1.0, 0.0, 0.0, 1.0, 3.0, 0.0 }).reshape(3, 2);
        var labels = tensor(new[] { 0L, 0L, 2L });
        double half = Math.Sqrt(0.5);

        new OrdinalEntropyLoss(1, 0).call(features, labels).item<double>().Should().BeApproximately(-half, 1e-15);
        new OrdinalEntropyLoss(0, 1).call(features, labels).item<double>().Should().BeApproximately(2 * half / 3, 1e-15);
        new OrdinalEntropyLoss().call(features, labels).item<double>().Should().BeApproximately(-half / 3, 1e-15);
        new OrdinalEntropyLoss(0.5, 3).call(features, labels).item<double>().Should().BeApproximately(-0.5 * half + 2 * half, 1e-15);
    }

    [Fact]
    public void WeighsCenterDistancesByTheScaledLabelDistance()
    {
        // Unit rows (1, 0), (0, 1), (-1, 0) with labels 0, 1, 3: every sample is its own center (tightness 0).
        // Center distances: sqrt(2) (0-1), 2 (0-3), sqrt(2) (1-3); label distances 1, 3, 2 -> weights 1/3, 1, 2/3.
        // Diversity: -(2 / 6) * (sqrt(2) / 3 + 2 + 2 sqrt(2) / 3) = -(sqrt(2) + 2) / 3.
        using var scope = NewDisposeScope();
        var features = tensor(new[] { 1.0, 0.0, 0.0, 1.0, -1.0, 0.0 }).reshape(3, 2);
        double expected = -(Math.Sqrt(2) + 2) / 3;

        new OrdinalEntropyLoss().call(features, tensor(new[] { 0.0, 1.0, 3.0 })).item<double>().Should().BeApproximately(expected, 1e-15);

        // The label's units do not matter (weights are scaled to the batch's largest distance), nor the label's origin.
        new OrdinalEntropyLoss().call(features, tensor(new[] { 1000.0, 1250.0, 1750.0 })).item<double>().Should().BeApproximately(expected, 1e-12);

        // [B, 1] labels are [B] labels.
        new OrdinalEntropyLoss().call(features, tensor(new[] { 0.0, 1.0, 3.0 }).unsqueeze(1)).item<double>().Should().BeApproximately(expected, 1e-15);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 1, 4)]
    [InlineData(3, 2, 3)]
    [InlineData(4, 1, 1000)]
    public void MatchesAnIndependentImplementationOfTheDefinition(int seed, int labelColumns, int labelRange)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(seed: (ulong)seed);
        var features = randn(16, 6, dtype: ScalarType.Float64, generator: generator);
        var labels = randint(0, labelRange, labelColumns == 1 ? [16] : [16, labelColumns], dtype: ScalarType.Float64, generator: generator);

        double actual = new OrdinalEntropyLoss(0.7, 1.3).call(features, labels).item<double>();

        double expected = Definition(Rows(features), Rows(labels.reshape(16, labelColumns)), 0.7, 1.3);
        actual.Should().BeApproximately(expected, 1e-12 * Math.Max(1, Math.Abs(expected)));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public void GradientMatchesCentralFiniteDifferencesInFloat64(int seed, bool vectorLabels)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(seed: (ulong)seed);

        // Ties in the labels (tightness and several samples per center) and a 3-D feature tensor (flattened to [B, 6]).
        var features = randn(10, 2, 3, dtype: ScalarType.Float64, generator: generator).requires_grad_();
        var labels = vectorLabels
            ? randint(0, 3, [10, 2], dtype: ScalarType.Float64, generator: generator)
            : randint(0, 5, [10], dtype: ScalarType.Int64, generator: generator);
        var loss = new OrdinalEntropyLoss(0.8, 1.5);

        loss.call(features, labels).backward();
        var analytic = features.grad!.Doubles();

        const double h = 1e-6;
        var numeric = new double[analytic.Length];
        var baseValues = features.detach().clone();
        for (int k = 0; k < numeric.Length; k++)
        {
            using var inner = NewDisposeScope();
            var plus = baseValues.clone();
            var minus = baseValues.clone();
            plus.view(-1)[k] += h;
            minus.view(-1)[k] -= h;
            numeric[k] = (loss.call(plus, labels).item<double>() - loss.call(minus, labels).item<double>()) / (2 * h);
        }

        analytic.Select(Math.Abs).Max().Should().BeGreaterThan(1e-3, "the case must exercise a non-zero gradient");
        analytic.Should().Equal(numeric, (a, e) => Math.Abs(a - e) <= 1e-7);
    }

    [Fact]
    public void DiversityPushesCentersOfDistantLabelsApart()
    {
        // Nearly collapsed features: a few steps of gradient descent on the diversity term alone spread the centers,
        // and the pair with the most distant labels ends up the furthest apart.
        using var scope = NewDisposeScope();
        var generator = new Generator(seed: 5);
        var features = (ones(4, 8, dtype: ScalarType.Float64) + 1e-3 * randn(4, 8, dtype: ScalarType.Float64, generator: generator)).requires_grad_();
        var labels = tensor(new[] { 0.0, 1.0, 2.0, 10.0 });
        var loss = new OrdinalEntropyLoss(1, 0);

        double first = loss.call(features, labels).item<double>();
        for (int step = 0; step < 200; step++)
        {
            using var inner = NewDisposeScope();
            features.grad?.zero_();
            loss.call(features, labels).backward();
            using (no_grad())
            {
                features.sub_(0.5 * features.grad!);
            }
        }

        double last = loss.call(features, labels).item<double>();
        last.Should().BeLessThan(first - 0.5, "the diversity term falls as the centers spread");
        var unit = nn.functional.normalize(features.detach(), dim: 1);
        double Distance(int a, int b) => (unit[a] - unit[b]).norm().item<double>();
        Distance(0, 3).Should().BeGreaterThan(Distance(0, 1));
        Distance(0, 3).Should().BeGreaterThan(Distance(1, 2));
    }

    [Fact]
    public void DegenerateBatchesGiveFiniteValuesAndGradients()
    {
        using var scope = NewDisposeScope();

        // One distinct label: no diversity, only tightness.
        var features = randn(6, 3, dtype: ScalarType.Float64, generator: new Generator(seed: 2)).requires_grad_();
        var same = full(6, 4.0, dtype: ScalarType.Float64);
        new OrdinalEntropyLoss(1, 0).call(features, same).item<double>().Should().Be(0.0);
        var value = new OrdinalEntropyLoss().call(features, same);
        value.item<double>().Should().BeApproximately(new OrdinalEntropyLoss(0, 1).call(features, same).item<double>(), 1e-15);
        value.backward();
        features.grad!.isfinite().all().item<bool>().Should().BeTrue();

        // Identical features under distinct labels (every distance 0) and zero rows: the loss is at its extreme and
        // every gradient is finite.
        foreach (var f in new[] { ones(5, 4, dtype: ScalarType.Float64), zeros(5, 4, dtype: ScalarType.Float64) })
        {
            var leaf = f.clone().requires_grad_();
            var loss = new OrdinalEntropyLoss().call(leaf, arange(5, dtype: ScalarType.Float64));
            loss.item<double>().Should().Be(0.0);
            loss.backward();
            leaf.grad!.isfinite().all().item<bool>().Should().BeTrue();
        }

        // A batch of one sample.
        var single = randn(1, 3).requires_grad_();
        var alone = new OrdinalEntropyLoss().call(single, tensor(new[] { 7.0f }));
        alone.item<float>().Should().Be(0f);
        alone.backward();
        single.grad!.Floats().Should().OnlyContain(g => g == 0f);
    }

    [Fact]
    public void ScalingAFeatureRowOrTheLabelsChangesNothing()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(seed: 8);
        var features = randn(12, 5, dtype: ScalarType.Float64, generator: generator);
        var labels = randint(0, 6, [12], dtype: ScalarType.Float64, generator: generator);
        var loss = new OrdinalEntropyLoss();
        double reference = loss.call(features, labels).item<double>();

        var rowScales = rand(12, 1, dtype: ScalarType.Float64, generator: generator) * 10 + 0.1;
        loss.call(features * rowScales, labels).item<double>().Should().BeApproximately(reference, 1e-12);
        loss.call(features, labels * 37.5 - 4).item<double>().Should().BeApproximately(reference, 1e-12);
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void EveryFloatingDtypeGetsItsGradientBackInItsDtype(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(seed: 4);
        var f = randn(8, 4, dtype: ScalarType.Float64, generator: generator);
        f[0] = zeros(4, dtype: ScalarType.Float64); // a zero row: its normalization gradient is 1 / 1e-12.
        var features = f.to(dtype).requires_grad_();
        var labels = randint(0, 4, [8], generator: generator);

        var value = new OrdinalEntropyLoss().call(features, labels);
        value.dtype.Should().Be(dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32);
        value.backward();

        features.grad!.dtype.Should().Be(dtype);
        features.grad!.isfinite().all().item<bool>().Should().BeTrue();
        double expected = new OrdinalEntropyLoss().call(features.detach().to(ScalarType.Float64), labels).item<double>();
        value.to(ScalarType.Float64).item<double>().Should().BeApproximately(expected, dtype == ScalarType.Float64 ? 1e-15 : 1e-5);
    }

    [Fact]
    public void ModuleFactoryAndFunctionalFormGiveTheSameValuesAndGradients()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(seed: 6);
        var features = randn(20, 7, generator: generator);
        var labels = randint(0, 8, [20], generator: generator);

        var a = features.clone().requires_grad_();
        var b = features.clone().requires_grad_();
        var c = features.clone().requires_grad_();
        var module = new OrdinalEntropyLoss(0.3, 2).call(a, labels);
        var factory = ranksim.nn.OrdinalEntropyLoss(0.3, 2).call(b, labels);
        var functional = ranksim.nn.functional.ordinal_entropy_loss(c, labels, diversity_weight: 0.3, tightness_weight: 2);
        module.backward();
        factory.backward();
        functional.backward();

        factory.item<float>().Should().Be(module.item<float>());
        functional.item<float>().Should().Be(module.item<float>());
        b.grad!.Floats().Should().Equal(a.grad!.Floats());
        c.grad!.Floats().Should().Equal(a.grad!.Floats());
    }

    [Theory]
    [InlineData(-0.1, 1.0, "diversityWeight")]
    [InlineData(double.NaN, 1.0, "diversityWeight")]
    [InlineData(1.0, double.PositiveInfinity, "tightnessWeight")]
    [InlineData(1.0, 2e6, "tightnessWeight")]
    public void RefusesWeightsOutOfRange(double diversity, double tightness, string name) =>
        FluentActions.Invoking(() => new OrdinalEntropyLoss(diversity, tightness))
            .Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == name);

    [Fact]
    public void RefusesInputsThatDoNotFitNamingTheArgument()
    {
        using var scope = NewDisposeScope();
        var loss = new OrdinalEntropyLoss();
        var features = randn(4, 3);
        var labels = arange(4, dtype: ScalarType.Float32);

        FluentActions.Invoking(() => loss.call(randn(4), labels)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "features");
        FluentActions.Invoking(() => loss.call(features, arange(5))).Should().Throw<ArgumentException>().WithMessage("*batch size 5*");
        FluentActions.Invoking(() => loss.call(features.to(ScalarType.Int32), labels)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "features");
        FluentActions.Invoking(() => loss.call(features, tensor(new[] { 0f, float.NaN, 1f, 2f }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "labels");
        var withNaN = features.clone();
        withNaN[1, 1] = tensor(float.NaN);
        FluentActions.Invoking(() => loss.call(withNaN, labels)).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => ranksim.nn.functional.ordinal_entropy_loss(features, labels, diversity_weight: -1))
            .Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "diversity_weight");
    }

    [Fact]
    public void ThousandForwardBackwardCallsLeaveNoTensorAlive()
    {
        var features = randn(24, 8).requires_grad_();
        var labels = randint(0, 10, 24);
        var loss = new OrdinalEntropyLoss();

        void Step()
        {
            using var scope = NewDisposeScope();
            loss.call(features, labels).backward();
            features.grad!.zero_();
        }

        Step();
        long before = DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
        for (int i = 0; i < 1000; i++)
        {
            Step();
        }

        DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount.Should().Be(before);
    }

    private static double[][] Rows(Tensor t)
    {
        var values = t.Doubles();
        int columns = (int)t.shape[1];
        return [.. Enumerable.Range(0, (int)t.shape[0]).Select(r => values.Skip(r * columns).Take(columns).ToArray())];
    }

    /// <summary>The definition, written out with loops over managed arrays (no tensors, no Gram matrix).</summary>
    private static double Definition(double[][] features, double[][] labels, double diversityWeight, double tightnessWeight)
    {
        static double Norm(IEnumerable<double> v) => Math.Sqrt(v.Sum(x => x * x));
        var unit = features.Select(f => { double n = Math.Max(Norm(f), 1e-12); return f.Select(x => x / n).ToArray(); }).ToArray();
        var distinct = labels.Select(l => string.Join(",", l)).Distinct().ToList();
        var members = distinct.Select(key => Enumerable.Range(0, labels.Length).Where(i => string.Join(",", labels[i]) == key).ToList()).ToList();
        var centers = members.Select(m => Enumerable.Range(0, unit[0].Length).Select(d => m.Average(i => unit[i][d])).ToArray()).ToList();
        var values = members.Select(m => labels[m[0]]).ToList();
        int count = distinct.Count;

        double largest = 0;
        for (int a = 0; a < count; a++)
        {
            for (int b = 0; b < count; b++)
            {
                largest = Math.Max(largest, Norm(values[a].Zip(values[b], (x, y) => x - y)));
            }
        }

        double diversity = 0;
        for (int a = 0; a < count; a++)
        {
            for (int b = 0; b < count; b++)
            {
                if (a != b)
                {
                    double w = Norm(values[a].Zip(values[b], (x, y) => x - y)) / largest;
                    diversity += w * Norm(centers[a].Zip(centers[b], (x, y) => x - y));
                }
            }
        }

        diversity = count > 1 ? -diversity / (count * (count - 1)) : 0;
        double tightness = Enumerable.Range(0, count)
            .Sum(m => members[m].Sum(i => Norm(unit[i].Zip(centers[m], (x, y) => x - y)))) / features.Length;
        return diversityWeight * diversity + tightnessWeight * tightness;
    }
}

/// <summary><see cref="OrdinalEntropyLossTests"/> with the CPU kernels enabled.</summary>
[Collection(SerialCollection.Name)]
public sealed class OrdinalEntropyLossWithKernelsTests() : OrdinalEntropyLossTests(referencePath: false);

/// <summary><see cref="OrdinalEntropyLossTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
[Collection(SerialCollection.Name)]
public sealed class OrdinalEntropyLossOnReferencePathTests() : OrdinalEntropyLossTests(referencePath: true);
