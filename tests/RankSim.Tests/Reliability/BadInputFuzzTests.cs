using Reduction = TorchSharp.torch.nn.Reduction;

namespace RankSim.Tests.Reliability;

/// <summary>
/// Every public constructor and method of the package, called with <see cref="FuzzInputs"/>. Each call must either
/// give a correct result (checked: finite where the inputs are, in range, of the right size) or throw an
/// ArgumentException with a message; anything else, or a result that is silently wrong, is a failure. The process must
/// survive all of them (an exception inside an autograd backward pass would abort it).
/// </summary>
public abstract class BadInputFuzzTests(bool referencePath) : BothPaths(referencePath)
{
    private const int Calls = 1000;

    /// <summary>An accepted call whose result is wrong.</summary>
    private sealed class SilentlyWrongException(string message) : Exception(message);

    private static void Expect(bool condition, string what)
    {
        if (!condition)
        {
            throw new SilentlyWrongException(what);
        }
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
            string where = ex.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains(" RankSim.", StringComparison.Ordinal))?.Trim() ?? "";
            failures.Add($"{what}: {ex.GetType().Name}: {ex.Message.Split('\n')[0]} {where}");
        }
    }

    private static readonly double[] Lambdas = [2.0, 0.0, -1.0, double.NaN, double.PositiveInfinity, 1e300, 1e30, 1e-300, 0.5];
    private static readonly double[] Regularizations = [0.1, 1.0, 1e-30, 1e30, 1e-31, 0.0, -1.0, double.NaN, double.PositiveInfinity, 1e-3];
    private static readonly LabelDistribution Distribution = LabelDistribution.FromValues([0.0, 1, 1, 2, 3, 3, 3, 4, 5, 6, 7]);

    [Fact]
    public void TheRegularizersAndTheRankersAreRightOrRefuse()
    {
        var input = new FuzzInputs(21);
        var failures = new List<string>();
        for (int call = 0; call < Calls; call++)
        {
            long batch = input.Next(12) + 1;
            Check(failures, $"RankSimLoss call {call}", () => FuzzRankSimLoss(input, batch));
            Check(failures, $"OrdinalEntropyLoss call {call}", () => FuzzOrdinalEntropyLoss(input, batch));
            Check(failures, $"BlackboxRank call {call}", () => FuzzBlackboxRank(input, batch));
            Check(failures, $"SoftRank call {call}", () => FuzzSoftRank(input, batch));
        }

        failures.Should().BeEmpty(string.Join("\n", failures.Take(40)));
    }

    [Fact]
    public void TheDirToolsAreRightOrRefuse()
    {
        var input = new FuzzInputs(22);
        var failures = new List<string>();
        for (int call = 0; call < Calls; call++)
        {
            long batch = input.Next(12) + 1;
            Check(failures, $"KernelWindow call {call}", () => FuzzKernelWindow(input, batch));
            Check(failures, $"LabelBinning.FixedWidth call {call}", () => FuzzFixedWidthBinning(input, batch));
            Check(failures, $"LabelBinning.Integers call {call}", () => FuzzIntegerBinning(input, batch));
            Check(failures, $"LabelBinning.FromEdges call {call}", () => FuzzBinningFromEdges(input, batch));
            Check(failures, $"LabelBinning.IntegersFromLabels call {call}", () => FuzzBinningFromLabels(input, batch));
            Check(failures, $"LabelDistribution call {call}", () => FuzzLabelDistribution(input, batch));
            Check(failures, $"LabelWeights.Lookup call {call}", () => FuzzWeightLookup(input, batch));
            Check(failures, $"FDS call {call}", () => FuzzFds(input, batch));
            Check(failures, $"losses call {call}", () => FuzzLosses(input, batch));
            Check(failures, $"GaussianMixture call {call}", () => FuzzGaussianMixture(input, batch));
            Check(failures, $"DirEvaluator call {call}", () => FuzzDirEvaluator(input, batch));
            Check(failures, $"FeatureDiagnostics call {call}", () => FuzzFeatureDiagnostics(input, batch));
            Check(failures, $"PairedComparison call {call}", () => FuzzPairedComparison(input, batch));
            Check(failures, $"RegressorRetraining call {call}", () => FuzzRegressorRetraining(input, batch));
        }

        failures.Should().BeEmpty(string.Join("\n", failures.Take(40)));
    }

    private static Generator Disposed()
    {
        var generator = new Generator(1);
        generator.Dispose();
        return generator;
    }

    private static void CheckBinning(LabelBinning binning)
    {
        var edges = binning.Edges;
        Expect(binning.Count >= 1 && edges.Count == binning.Count + 1, "bin count");
        Expect(edges.All(double.IsFinite), $"non-finite edges ({edges[0]} .. {edges[^1]}, {binning.Count} bins)");
        Expect(edges.Zip(edges.Skip(1)).All(p => p.First < p.Second), $"edges not strictly increasing ({edges[0]} .. {edges[^1]}, {binning.Count} bins)");
    }

    /// <summary>One fuzzed call: RankSimLoss.</summary>
    private static void FuzzRankSimLoss(FuzzInputs input, long batch)
    {
        var generator = input.Next(6) switch { 0 => null, 1 => Disposed(), _ => new Generator(7) };
        bool checkFinite = input.Next(4) > 0;
        FeatureRanking ranking = input.Coin()
            ? FeatureRanking.Blackbox(Lambdas[input.Next(Lambdas.Length)], input.Enum<PerturbationScaling>(2))
            : FeatureRanking.Soft(Regularizations[input.Next(Regularizations.Length)]);
        var loss = new RankSimLoss(ranking, input.Enum<FeatureSimilarity>(4), input.Enum<Reduction>(4), input.Coin(),
            input.Enum<RankTies>(3), generator, checkFinite);
        var features = input.Tensor(batch, mostlyValid: true);
        var labels = input.Tensor(batch, mostlyValid: true);
        bool ordinary = FuzzInputs.IsOrdinary(features) && FuzzInputs.IsOrdinary(labels);
        var value = loss.call(features, labels);
        if (!ordinary && checkFinite)
        {
            Expect(false, $"accepted features {FuzzInputs.Describe(features)}, labels {FuzzInputs.Describe(labels)}");
        }

        if (ordinary)
        {
            Expect(FuzzInputs.AllFinite(value) && value.detach().to(ScalarType.Float64).ge(0).all().item<bool>(), $"loss {value.Doubles().FirstOrDefault()} for finite inputs");
            if (features.requires_grad)
            {
                value.sum().backward();
                Expect(features.grad is null || FuzzInputs.AllFinite(features.grad), "non-finite gradient for finite inputs");
            }
        }
    }

    /// <summary>One fuzzed call: OrdinalEntropyLoss.</summary>
    private static void FuzzOrdinalEntropyLoss(FuzzInputs input, long batch)
    {
        double diversity = input.Coin() ? input.Number() : 1.0;
        double tightness = input.Coin() ? input.Number() : 1.0;
        bool checkFinite = input.Next(4) > 0;
        var features = input.Tensor(batch, mostlyValid: true);
        var labels = input.Tensor(batch, mostlyValid: true);
        bool ordinary = FuzzInputs.IsOrdinary(features) && FuzzInputs.IsOrdinary(labels);
        var value = input.Coin()
            ? new OrdinalEntropyLoss(diversity, tightness, checkFinite).call(features, labels)
            : ranksim.nn.functional.ordinal_entropy_loss(features, labels, diversity, tightness, checkFinite);
        if (!ordinary && checkFinite)
        {
            Expect(false, $"accepted features {FuzzInputs.Describe(features)}, labels {FuzzInputs.Describe(labels)}");
        }

        if (ordinary)
        {
            // Diversity lies in [-2, 0] and tightness in [0, 2].
            double v = value.to(ScalarType.Float64).item<double>();
            Expect(double.IsFinite(v) && v >= -2 * diversity - 1e-4 && v <= 2 * tightness + 1e-4, $"loss {v} for finite inputs (weights {diversity}, {tightness})");
            if (features.requires_grad)
            {
                value.backward();
                Expect(features.grad is null || FuzzInputs.AllFinite(features.grad), "non-finite gradient for finite inputs");
            }
        }
    }

    /// <summary>One fuzzed call: BlackboxRank.</summary>
    private static void FuzzBlackboxRank(FuzzInputs input, long batch)
    {
        var scores = input.Tensor(batch, mostlyValid: true);
        bool ordinary = FuzzInputs.IsOrdinary(scores);
        var ranks = BlackboxRank.Apply(scores, Lambdas[input.Next(Lambdas.Length)]);
        Expect(ordinary, $"accepted scores {FuzzInputs.Describe(scores)}");

        // Index-order ties: each row's ranks times N are a permutation of 1..N.
        long n = scores.shape[^1];
        var sorted = (ranks.detach().to(ScalarType.Float64).reshape(-1, n) * n).sort(-1).Values;
        Expect(sorted.sub(arange(1, n + 1, dtype: ScalarType.Float64)).abs().max().item<double>() < 1e-3, "ranks that are not 1/N..1");
        if (scores.requires_grad)
        {
            (ranks * randn_like(ranks)).sum().backward();
            Expect(scores.grad is null || FuzzInputs.AllFinite(scores.grad), "non-finite gradient for finite scores");
        }
    }

    /// <summary>One fuzzed call: SoftRank.</summary>
    private static void FuzzSoftRank(FuzzInputs input, long batch)
    {
        var scores = input.Tensor(batch, mostlyValid: true);
        bool ordinary = FuzzInputs.IsOrdinary(scores);
        var ranks = SoftRank.Apply(scores, Regularizations[input.Next(Regularizations.Length)]);
        Expect(ordinary, $"accepted scores {FuzzInputs.Describe(scores)}");

        // A point of the permutahedron over N: every rank in [1/N, 1], each row summing to (N + 1) / 2.
        long n = scores.shape[^1];
        var rows = ranks.detach().to(ScalarType.Float64).reshape(-1, n);
        Expect(rows.ge(1.0 / n - 1e-6).all().item<bool>() && rows.le(1 + 1e-6).all().item<bool>(), "soft ranks outside [1/N, 1]");
        Expect(rows.sum(1).sub((n + 1) / 2.0).abs().max().item<double>() < 1e-4 * n, "soft ranks whose rows do not sum to (N + 1) / 2");
        if (scores.requires_grad)
        {
            (ranks * randn_like(ranks)).sum().backward();
            Expect(scores.grad is null || FuzzInputs.AllFinite(scores.grad), "non-finite gradient for finite scores");
        }
    }

    /// <summary>One fuzzed call: KernelWindow.</summary>
    private static void FuzzKernelWindow(FuzzInputs input, long batch)
    {
        int size = input.Int();
        var window = new KernelWindow(input.Enum<KernelShape>(4), size, input.Number());
        var max = window.MaxNormalized();
        var sum = window.SumNormalized();
        Expect(max.Length == size && max.All(double.IsFinite) && max.Max() == 1 && max.All(w => w is >= 0 and <= 1), $"max-normalized window {window}");

        // Symmetric up to rounding (the Gaussian is a filtered delta, summed in a different order on each side).
        Expect(max.Zip(max.Reverse()).All(p => Math.Abs(p.First - p.Second) <= 1e-12), $"asymmetric window {window}: {string.Join(", ", max)}");
        Expect(Math.Abs(sum.Sum() - 1) < 1e-9 && sum.All(w => w >= 0), $"sum-normalized window {window}");
    }

    /// <summary>One fuzzed call: LabelBinning.FixedWidth.</summary>
    private static void FuzzFixedWidthBinning(FuzzInputs input, long batch)
    {
        var binning = LabelBinning.FixedWidth(input.Number(), input.Number(), input.Int());
        CheckBinning(binning);
        var labels = input.Tensor(batch, mostlyValid: false);
        bool ordinary = FuzzInputs.IsOrdinary(labels);
        var bins = binning.BinIndex(labels);
        Expect(ordinary, $"accepted labels {FuzzInputs.Describe(labels)}");
        // Float64 and integer labels are binned with the exact edges, as BinIndex(double) bins; narrower floating
        // labels in their own precision (by design: a float32 2.6f lies on the edge 2.6, as the float64 2.6 does).
        var values = labels.Doubles();
        var index = bins.Doubles();
        bool exactEdges = labels.dtype is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16);
        for (int i = 0; exactEdges && i < values.Length; i++)
        {
            Expect(index[i] == binning.BinIndex(values[i]), $"BinIndex(tensor) {index[i]} != BinIndex({values[i]}) {binning.BinIndex(values[i])} ({labels.dtype})");
        }
    }

    /// <summary>One fuzzed call: LabelBinning.Integers.</summary>
    private static void FuzzIntegerBinning(FuzzInputs input, long batch)
    {
        long min = input.Long(), max = input.Long();
        var binning = LabelBinning.Integers(min, max);
        CheckBinning(binning);
        Expect(binning.Count == max - min + 1 && binning.LowerEdge(0) == min, "integer bins");
    }

    /// <summary>One fuzzed call: LabelBinning.FromEdges.</summary>
    private static void FuzzBinningFromEdges(FuzzInputs input, long batch)
    {
        var edges = Enumerable.Range(0, input.Next(5)).Select(_ => input.Number()).ToArray();
        CheckBinning(LabelBinning.FromEdges(edges));
    }

    /// <summary>One fuzzed call: LabelBinning.IntegersFromLabels.</summary>
    private static void FuzzBinningFromLabels(FuzzInputs input, long batch)
    {
        var labels = input.Tensor(batch, mostlyValid: false);
        var binning = LabelBinning.IntegersFromLabels(labels);
        Expect(FuzzInputs.IsOrdinary(labels), $"accepted labels {FuzzInputs.Describe(labels)}");
        CheckBinning(binning);
        Expect(labels.Doubles().All(v => binning.BinIndex(v) >= 0 && binning.BinIndex(v) < binning.Count), "a label outside its own bins");
    }

    /// <summary>One fuzzed call: LabelDistribution.</summary>
    private static void FuzzLabelDistribution(FuzzInputs input, long batch)
    {
        var labels = input.Tensor(batch, mostlyValid: false);
        var binning = input.Coin() ? null : LabelBinning.FixedWidth(0, 8, 8);
        var fromLabels = LabelDistribution.FromLabels(labels, binning);
        Expect(FuzzInputs.IsOrdinary(labels), $"accepted labels {FuzzInputs.Describe(labels)}");
        Expect(fromLabels.SampleCount == labels.numel() && fromLabels.Counts.All(c => c >= 0), "counts");
        var values = Enumerable.Range(0, input.Next(6)).Select(_ => input.Number()).ToArray();
        var fromValues = LabelDistribution.FromValues(values, binning);
        Expect(fromValues.SampleCount == values.Length, "counts of values");
        var (reweighting, smooth, clipMin, clipMax) = (input.Enum<Reweighting>(3), input.Coin(), input.Number(), input.Number());
        var weights = fromValues.Reweight(reweighting, smooth ? null : new KernelWindow(), clipMin, clipMax);
        var perSample = weights.Lookup(tensor(values)).Doubles();
        Expect(perSample.All(w => double.IsFinite(w) && w >= 0),
            $"weights {string.Join(", ", perSample)} for labels {string.Join(", ", values)}, {reweighting}, LDS {!smooth}, clip [{clipMin}, {clipMax}]");
        Expect(fromValues.Smooth(new KernelWindow(size: 3, sigma: 1)).All(c => double.IsFinite(c) && c >= 0), "smoothed counts");
    }

    /// <summary>One fuzzed call: LabelWeights.Lookup.</summary>
    private static void FuzzWeightLookup(FuzzInputs input, long batch)
    {
        var labels = input.Tensor(batch, mostlyValid: false);
        var weights = Distribution.Reweight(Reweighting.SqrtInverse).Lookup(labels);
        Expect(FuzzInputs.IsOrdinary(labels), $"accepted labels {FuzzInputs.Describe(labels)}");
        Expect(weights.shape.SequenceEqual(labels.shape) && FuzzInputs.AllFinite(weights) && weights.ge(0).all().item<bool>(), "weights");
    }

    /// <summary>One fuzzed call: FDS.</summary>
    private static void FuzzFds(FuzzInputs input, long batch)
    {
        var fds = new FeatureDistributionSmoothing(input.Long(), Distribution.Binning, input.Coin() ? null : new KernelWindow(size: 3),
            input.Int(), input.Int(), input.Number(), input.Number(), input.Number());
        var (features, labels) = (input.Tensor(batch, true), input.Tensor(batch, true));
        bool ordinary = FuzzInputs.IsOrdinary(features) && FuzzInputs.IsOrdinary(labels);
        fds.UpdateStatistics(features, labels);
        Expect(ordinary, $"accepted features {FuzzInputs.Describe(features)}, labels {FuzzInputs.Describe(labels)}");
        if (input.Coin())
        {
            fds.EndEpoch();
        }
        else
        {
            fds.EndEpoch([(input.Tensor(batch, true), input.Tensor(batch, true))]);
        }

        Expect(FuzzInputs.AllFinite(fds.SmoothedMean) && FuzzInputs.AllFinite(fds.SmoothedVariance), "smoothed statistics");
        var (moreFeatures, moreLabels) = (input.Tensor(batch, true), input.Tensor(batch, true));
        var smoothed = fds.call(moreFeatures, moreLabels);
        Expect(FuzzInputs.IsOrdinary(moreFeatures) && FuzzInputs.IsOrdinary(moreLabels), "forward accepted an unusable input");
        Expect(smoothed.shape.SequenceEqual(moreFeatures.shape) && FuzzInputs.AllFinite(smoothed), "smoothed features");
    }

    /// <summary>One fuzzed call: losses.</summary>
    private static void FuzzLosses(FuzzInputs input, long batch)
    {
        var prediction = input.Tensor(batch, true);
        var target = input.Tensor(batch, true);
        var weights = input.Coin() ? null : input.Tensor(batch, true);
        bool ordinary = FuzzInputs.IsOrdinary(prediction) && FuzzInputs.IsOrdinary(target);
        bool ordinaryWeights = weights is null || FuzzInputs.IsOrdinary(weights);
        void Accepts(string name, bool usesWeights, Func<Tensor> call)
        {
            Tensor loss;
            try
            {
                loss = call();
            }
            catch (ArgumentException)
            {
                return;
            }

            Expect(ordinary && (ordinaryWeights || !usesWeights),
                $"{name} accepted input {FuzzInputs.Describe(prediction)}, target {FuzzInputs.Describe(target)}, weights {(weights is null ? "none" : FuzzInputs.Describe(weights))}");
            Expect(FuzzInputs.AllFinite(loss), $"{name}: a non-finite loss {loss.Doubles().FirstOrDefault()} for finite inputs");
            if (prediction.requires_grad)
            {
                prediction.grad?.zero_();
                loss.sum().backward();
                Expect(prediction.grad is null || FuzzInputs.AllFinite(prediction.grad), $"{name}: a non-finite gradient for finite inputs");
            }
        }

        Accepts("L1", true, () => new WeightedL1Loss(input.Enum<Reduction>(4)).call(prediction, target, weights));
        Accepts("MSE", true, () => new WeightedMSELoss(input.Enum<Reduction>(4)).call(prediction, target, weights));
        double beta = input.Number();
        Accepts($"Huber beta {beta}", true, () => new WeightedHuberLoss(beta).call(prediction, target, weights));
        var (focalBase, activation, focalBeta, gamma) = (input.Enum<FocalRBase>(3), input.Enum<FocalRActivation>(3), input.Number(), input.Number());
        Accepts($"Focal-R {focalBase} {activation} beta {focalBeta} gamma {gamma}", true,
            () => new FocalRLoss(focalBase, activation, focalBeta, gamma).call(prediction, target, weights));
        double sigma = input.Number();
        Accepts($"BMC sigma {sigma}", false, () => new BMCLoss(sigma, input.Coin()).call(prediction, target));
        Accepts($"GAI sigma {sigma}", false, () => new GAILoss(new GaussianMixture([0.0, 3], [1.0, 2], [0.5, 0.5]), sigma).call(prediction, target));

        // The functional forms, with the same kinds of inputs and a fuzzed noise variance tensor.
        var reduction = input.Enum<Reduction>(4);
        Accepts("weighted_l1_loss", true, () => ranksim.nn.functional.weighted_l1_loss(prediction, target, weights, reduction));
        Accepts("weighted_mse_loss", true, () => ranksim.nn.functional.weighted_mse_loss(prediction, target, weights, reduction));
        Accepts($"weighted_huber_loss beta {beta}", true, () => ranksim.nn.functional.weighted_huber_loss(prediction, target, weights, beta, reduction));
        Accepts($"weighted_focal_l1_loss {activation} beta {focalBeta} gamma {gamma}", true,
            () => ranksim.nn.functional.weighted_focal_l1_loss(prediction, target, weights, activation, focalBeta, gamma));
        Accepts($"weighted_focal_mse_loss {activation} beta {focalBeta} gamma {gamma}", true,
            () => ranksim.nn.functional.weighted_focal_mse_loss(prediction, target, weights, activation, focalBeta, gamma));
        var noiseVariance = input.Tensor(1, mostlyValid: true);
        Accepts("bmc_loss", false, () => ranksim.nn.functional.bmc_loss(prediction, target, noiseVariance));
        Accepts("gai_loss", false,
            () => ranksim.nn.functional.gai_loss(prediction, target, new GaussianMixture([0.0, 3], [1.0, 2], [0.5, 0.5]), noiseVariance));
    }

    /// <summary>One fuzzed call: GaussianMixture.</summary>
    private static void FuzzGaussianMixture(FuzzInputs input, long batch)
    {
        // Iterations stay bounded: a fit asked for 2^31 EM iterations with tolerance 0 legitimately runs that long.
        var labels = input.Tensor(batch, false);
        var mixture = input.Coin()
            ? GaussianMixture.Fit(labels, input.Int(), input.Next(300) - 2, input.Number())
            : new GaussianMixture([input.Number(), 1], [input.Number(), 1], [input.Number(), 0.5]);
        Expect(mixture.Means.All(double.IsFinite) && mixture.Variances.All(v => double.IsFinite(v) && v > 0), "mixture parameters");
        Expect(Math.Abs(mixture.Weights.Sum() - 1) < 1e-9 && mixture.Weights.All(w => w >= 0), "mixture weights");
        double x = input.Number();
        Expect(!double.IsFinite(x) || !double.IsNaN(mixture.LogDensity(x)), $"NaN log density at {x}");
    }

    /// <summary>One fuzzed call: DirEvaluator.</summary>
    private static void FuzzDirEvaluator(FuzzInputs input, long batch)
    {
        var split = new ShotSplit(Distribution, input.Number(), input.Number());
        Expect(split.BinGroups.Count == Distribution.Binning.Count, "shot groups");
        var evaluator = new DirEvaluator(split, input.Number());
        var (predictions, labels) = (input.Tensor(batch, true), input.Tensor(batch, true));
        evaluator.Add(predictions, labels);
        Expect(FuzzInputs.IsOrdinary(predictions) && FuzzInputs.IsOrdinary(labels),
            $"accepted predictions {FuzzInputs.Describe(predictions)}, labels {FuzzInputs.Describe(labels)}");
        var report = evaluator.Compute();
        Expect(report.All.Count == labels.numel() && report.Many.Count + report.Medium.Count + report.Few.Count == report.All.Count, "group counts");
        // MSE may exceed float64 (+infinity) only where RMSE exceeds 1e154; MAE and RMSE are finite unless errors
        // themselves exceed float64 (predictions and labels near +-double.MaxValue of opposite signs).
        bool errorsFit = predictions.Doubles().Concat(labels.Doubles()).All(v => Math.Abs(v) <= double.MaxValue / 2);
        Expect(report.All.Count == 0 || !errorsFit || (double.IsFinite(report.All.Mae) && report.All.Mae >= 0 && double.IsFinite(report.All.Rmse)
                && (double.IsFinite(report.All.Mse) || report.All.Rmse > 1e154)),
            $"MAE {report.All.Mae}, MSE {report.All.Mse} for predictions {string.Join(", ", predictions.Doubles().Take(4))} and labels {string.Join(", ", labels.Doubles().Take(4))}");
        Expect(double.IsNaN(report.All.Pearson) || Math.Abs(report.All.Pearson) <= 1 + 1e-12, "Pearson outside [-1, 1]");
        _ = report.ToTable();
        evaluator.Reset();
        Expect(evaluator.Compute().All.Count == 0, "Reset");
    }

    /// <summary>One fuzzed call: FeatureDiagnostics.</summary>
    private static void FuzzFeatureDiagnostics(FuzzInputs input, long batch)
    {
        var (features, labels) = (input.Tensor(batch, true), input.Tensor(batch, true));
        var predictions = input.Coin() ? null : input.Tensor(batch, true);
        var d = FeatureDiagnostics.Compute(features, labels, predictions);
        Expect(FuzzInputs.IsOrdinary(features) && FuzzInputs.IsOrdinary(labels) && (predictions is null || FuzzInputs.IsOrdinary(predictions)),
            $"accepted features {FuzzInputs.Describe(features)}, labels {FuzzInputs.Describe(labels)}");
        Expect(d.Count == features.shape[0] && d.MeanCosine is >= -1 and <= 1, $"mean cosine {d.MeanCosine}");
        Expect(d.EffectiveRank >= 0 && d.EffectiveRank <= Math.Min(features.shape[0], features.shape[1]) + 1e-9, $"effective rank {d.EffectiveRank}");
        Expect(double.IsNaN(d.SimilarityLabelSpearman) || Math.Abs(d.SimilarityLabelSpearman) <= 1 + 1e-12, $"Spearman {d.SimilarityLabelSpearman}");
        Expect(double.IsNaN(d.PredictionSpread) || d.PredictionSpread >= 0, $"prediction spread {d.PredictionSpread}");
    }

    /// <summary>One fuzzed call: PairedComparison.</summary>
    private static void FuzzPairedComparison(FuzzInputs input, long batch)
    {
        int seeds = input.Next(5);
        var treatment = Enumerable.Range(0, seeds).Select(_ => input.Number()).ToArray();
        var baseline = Enumerable.Range(0, input.Coin() ? seeds : input.Next(5)).Select(_ => input.Number()).ToArray();
        var comparison = PairedComparison.Of(treatment, baseline);
        Expect(treatment.Concat(baseline).All(double.IsFinite) && treatment.Length == baseline.Length && seeds > 0, "accepted unusable seeds");
        Expect(comparison.Count == seeds && comparison.Lower + comparison.Higher + comparison.Equal == seeds, "seed counts");
        Expect(!double.IsNaN(comparison.MeanDifference), "NaN mean difference of finite values");
    }

    /// <summary>One fuzzed call: RegressorRetraining.</summary>
    private static void FuzzRegressorRetraining(FuzzInputs input, long batch)
    {
        var regressor = nn.Linear(4, 1);
        var model = nn.Sequential(nn.Linear(3, 4), input.Coin() ? regressor : nn.Linear(4, 1));
        var generator = input.Next(4) == 0 ? Disposed() : new Generator(3);
        var trainable = RegressorRetraining.Prepare(model, regressor, generator);
        Expect(model.children().Contains(regressor), "accepted a regressor that is not in the model");
        Expect(trainable.Count == 2 && model.parameters().Count(p => p.requires_grad) == 2, "only the regressor trains");
    }
}

/// <summary><see cref="BadInputFuzzTests"/> with the CPU kernels.</summary>
public sealed class BadInputFuzzWithKernelsTests() : BadInputFuzzTests(referencePath: false);

/// <summary><see cref="BadInputFuzzTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class BadInputFuzzOnReferencePathTests() : BadInputFuzzTests(referencePath: true);
