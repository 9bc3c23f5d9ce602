using RankSim;
using RankSim.Dir;
using TorchSharp;
using static TorchSharp.torch;

namespace DirExperiment;

/// <summary>
/// One epoch of one run: mean training loss, mean RankSim term (measured for every method), validation MAE, and the
/// feature diagnostics of up to 512 validation samples drawn at random (the same for every method and epoch).
/// </summary>
internal sealed record EpochRecord(int Epoch, double TrainLoss, double RankSimTerm, double ValMae, FeatureDiagnostics Diagnostics);

/// <summary>
/// The outcome of one method on one seed; <see cref="Diagnostics"/> and <see cref="ValMae"/> are those of the selected
/// model on validation.
/// </summary>
internal sealed record RunResult(
    string Method, int Seed, DirReport Test, IReadOnlyDictionary<int, double> TestMaeByBin, IReadOnlyList<EpochRecord> Curve,
    int BestEpoch, FeatureDiagnostics Diagnostics, double ValMae, double Seconds);

/// <summary>Trains and evaluates one method on one seed; paired across methods by seed (initialization, batch order).</summary>
internal sealed class Trainer(ExperimentSettings options, Dataset data, LabelDistribution training, Device device)
{
    private readonly Tensor diagnosticRows = DiagnosticSample(data.ValY.size(0));

    /// <summary>
    /// Builds each method's re-weighting and feature smoothing once on the training labels, so that a method these labels
    /// cannot support (e.g. FDS with fewer than three label bins) fails before any training.
    /// </summary>
    /// <exception cref="InputException">A method cannot be used with these labels.</exception>
    public static void CheckMethods(IEnumerable<MethodSpec> methods, LabelDistribution training)
    {
        foreach (var method in methods)
        {
            try
            {
                var (_, fds) = Imbalance(method, training, featureDim: 1, CPU);
                fds?.Dispose();
            }
            catch (ArgumentException ex)
            {
                throw new InputException($"method {method.Name} cannot be used with these labels: {ex.Message}");
            }
        }
    }

    private static (LabelWeights? Weights, FeatureDistributionSmoothing? Fds) Imbalance(MethodSpec method, LabelDistribution training, long featureDim, Device device) =>
    (
        method.Reweights
            ? training.Reweight(method.SqrtInverse ? Reweighting.SqrtInverse : Reweighting.Inverse, method.Lds ? new KernelWindow() : null)
            : null,
        method.Fds ? new FeatureDistributionSmoothing(featureDim, training.Binning, device: device) : null
    );

    /// <summary>Trains and evaluates <paramref name="method"/> on <paramref name="seed"/>.</summary>
    /// <param name="method">What the run trains with.</param>
    /// <param name="seed">The seed of the initialization, the batch order and RankSim's subsampling.</param>
    /// <param name="arm">How RankSim is applied (used only by methods with RankSim; its term is recorded for every method).</param>
    /// <param name="onEpoch">Called after every epoch.</param>
    /// <param name="recordedTerm">
    /// The RankSim term recorded in the curve, given the run's seed; null records the arm's own term. A study that compares
    /// arms records one term for all of them.
    /// </param>
    public RunResult Run(MethodSpec method, int seed, RankSimArm arm, Action<int, EpochRecord> onEpoch, Func<int, RankSimLoss>? recordedTerm = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        manual_seed(seed);
        Regressor model = data.Images ? new CnnRegressor() : new MlpRegressor(data.InputSize);
        model.to(device);
        var (trainX, trainY) = (data.TrainX.to(device), data.TrainY.to(device));
        var (valX, valY) = (data.ValX.to(device), data.ValY.to(device));

        var (weights, fds) = Imbalance(method, training, model.FeatureDim, device);
        var rankSim = arm.CreateLoss(SubsamplingGenerator(seed));
        var ordinalEntropy = method.OrdinalEntropy ? new OrdinalEntropyLoss() : null;

        var otherTerm = recordedTerm?.Invoke(seed);
        var bmc = method.Bmc ? new BMCLoss(initialNoiseSigma: 1.0) : null;
        bmc?.to(device);
        var focal = method.Focal ? new FocalRLoss() : null;
        var l1 = new WeightedL1Loss();

        Tensor RegressionLoss(Tensor pred, Tensor y, Tensor? w) =>
            bmc is not null ? bmc.call(pred, y) : focal is not null ? focal.call(pred, y, w) : l1.call(pred, y, w);

        var parameters = model.parameters().Concat(bmc?.parameters() ?? []).ToList();
        var optimizer = optim.Adam(parameters, options.LearningRate);
        var schedule = options.Schedule == LearningRateSchedule.Cosine ? optim.lr_scheduler.CosineAnnealingLR(optimizer, options.Epochs) : null;
        var batchOrder = new Generator((ulong)seed);
        var curve = new List<EpochRecord>();
        double bestMae = double.PositiveInfinity;
        int bestEpoch = 0, sinceBest = 0;
        Dictionary<string, Tensor>? best = null;

        // Stage one (or the only stage): the whole model.
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var record = TrainEpoch(epoch, useRankSim: method.RankSim, useOrdinalEntropy: true);
            schedule?.step();
            curve.Add(record);
            onEpoch(epoch, record);
            if (record.ValMae < bestMae)
            {
                (bestMae, bestEpoch, sinceBest) = (record.ValMae, epoch, 0);
                best = Snapshot();
            }
            else if (++sinceBest >= options.Patience)
            {
                break;
            }
        }

        Restore(best);

        // Regressor re-training: stage two trains a fresh last layer with re-weighting (SQINV + LDS unless the method has its own).
        if (method.Rrt)
        {
            weights ??= training.Reweight(Reweighting.SqrtInverse, new KernelWindow());
            fds = null;
            var trainable = RegressorRetraining.Prepare(model, model.Head, new Generator((ulong)seed + 2000));
            optimizer = optim.Adam(trainable, options.LearningRate);
            (bestMae, sinceBest) = (double.PositiveInfinity, 0);
            int stageTwoEpochs = Math.Max(2, options.Epochs / 3);
            for (int epoch = 1; epoch <= stageTwoEpochs; epoch++)
            {
                var record = TrainEpoch(curve.Count + 1, useRankSim: false, useOrdinalEntropy: false);
                curve.Add(record);
                onEpoch(curve.Count, record);
                if (record.ValMae < bestMae)
                {
                    (bestMae, sinceBest) = (record.ValMae, 0);
                    best = Snapshot();
                }
                else if (++sinceBest >= options.Patience)
                {
                    break;
                }
            }

            Restore(best);
        }

        var (report, byBin) = Evaluate(model);
        return new RunResult(
            method.Name, seed, report, byBin, curve, bestEpoch, Diagnose(model, valX, valY), MeanAbsoluteError(model, valX, valY), watch.Elapsed.TotalSeconds);

        EpochRecord TrainEpoch(int epoch, bool useRankSim, bool useOrdinalEntropy)
        {
            model.train();
            fds?.train();
            long n = trainX.shape[0];
            var order = randperm(n, generator: batchOrder).to(device);
            double lossSum = 0, rankSimSum = 0;
            int batches = 0;
            var epochFeatures = new List<(Tensor, Tensor)>();
            for (long start = 0; start + 1 < n; start += options.BatchSize, batches++)
            {
                using var scope = NewDisposeScope();
                var index = order[TensorIndex.Slice(start, Math.Min(start + options.BatchSize, n))];
                var (x, y) = (trainX.index_select(0, index), trainY.index_select(0, index));
                var features = model.Encode(x);
                var pred = model.Head.call(fds is null ? features : fds.call(features, y)).squeeze(1);
                var w = weights?.Lookup(y);
                var regularizer = rankSim.call(features, y);
                var loss = RegressionLoss(pred, y, w);
                if (useRankSim)
                {
                    loss = loss + arm.Gamma * regularizer;
                }

                if (useOrdinalEntropy && ordinalEntropy is not null)
                {
                    loss = loss + arm.OrdinalEntropyWeight * ordinalEntropy.call(features, y);
                }

                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
                if (otherTerm is null)
                {
                    rankSimSum += regularizer.item<float>();
                }
                else
                {
                    using var noGrad = no_grad();
                    rankSimSum += otherTerm.call(features.detach(), y).item<float>();
                }
                if (fds is not null)
                {
                    var kept = (features.detach().clone(), y.clone());
                    scope.MoveToOuter(kept.Item1, kept.Item2);
                    epochFeatures.Add(kept);
                }
            }

            if (fds is not null)
            {
                fds.EndEpoch(epochFeatures);
                epochFeatures.ForEach(b => { b.Item1.Dispose(); b.Item2.Dispose(); });
            }

            return new EpochRecord(epoch, lossSum / batches, rankSimSum / batches, MeanAbsoluteError(model, valX, valY), Diagnose(model, valX, valY));
        }

        Dictionary<string, Tensor> Snapshot() => model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

        void Restore(Dictionary<string, Tensor>? state)
        {
            if (state is not null)
            {
                model.load_state_dict(state);
            }
        }
    }

    /// <summary>The generator of RankSim's subsampling in a run with this seed.</summary>
    public static Generator SubsamplingGenerator(int seed) => new((ulong)seed + 1000);

    private (DirReport Report, IReadOnlyDictionary<int, double> ByBin) Evaluate(Regressor model)
    {
        var evaluator = new DirEvaluator(new ShotSplit(training));
        var predictions = Predict(model, data.TestX.to(device));
        evaluator.Add(predictions, data.TestY);
        var p = predictions.data<float>().ToArray();
        var y = data.TestY.data<float>().ToArray();
        var byBin = Enumerable.Range(0, y.Length).GroupBy(i => (int)Math.Floor(y[i]))
            .ToDictionary(g => g.Key, g => g.Average(i => (double)Math.Abs(p[i] - y[i])));
        return (evaluator.Compute(), byBin);
    }

    private double MeanAbsoluteError(Regressor model, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        return (Predict(model, x).to(y.device) - y).abs().mean().item<float>();
    }

    /// <summary>
    /// Feature diagnostics of the validation samples <see cref="DiagnosticSample"/> picked, in eval mode (the set itself
    /// can be ordered by label, as the balanced split builds it bin by bin).
    /// </summary>
    private FeatureDiagnostics Diagnose(Regressor model, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        model.eval();
        using var noGrad = no_grad();
        var rows = diagnosticRows.to(x.device);
        var (pred, features) = model.call(x.index_select(0, rows));
        return FeatureDiagnostics.Compute(features, y.index_select(0, rows.to(y.device)).to(features.device), pred);
    }

    /// <summary>
    /// Up to 512 of <paramref name="count"/> validation rows drawn at random, the same rows for every method and epoch of
    /// this data (a fixed generator), all of them for a smaller set.
    /// </summary>
    private static Tensor DiagnosticSample(long count)
    {
        if (count <= 512)
        {
            return arange(count);
        }

        using var generator = new Generator(20261206);
        return randperm(count, generator: generator).narrow(0, 0, 512).sort().Values;
    }

    private Tensor Predict(Regressor model, Tensor x)
    {
        model.eval();
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        for (long start = 0; start < x.shape[0]; start += 1024)
        {
            parts.Add(model.call(x[TensorIndex.Slice(start, Math.Min(start + 1024, x.shape[0]))]).Pred.cpu());
        }

        return cat(parts, 0);
    }
}
