using RankSim;
using RankSim.Dir;
using TorchSharp;
using static TorchSharp.torch;

namespace DirExperiment;

/// <summary>
/// One epoch of one run: mean training loss, mean RankSim term (of methods with RankSim, or the term a study records for
/// every method; NaN otherwise), validation MAE, and the feature diagnostics of up to 512 validation samples drawn at
/// random (the same for every method and epoch).
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
    /// <param name="arm">How RankSim is applied (used only by methods with RankSim).</param>
    /// <param name="onEpoch">Called after every epoch.</param>
    /// <param name="recordedTerm">
    /// A RankSim term to record in the curve for every method, given the run's seed, computed for logging only (no
    /// gradient); null records the term of a method that trains with RankSim, and none (NaN) for the others. A study
    /// that compares arms records one term for all of them.
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
        var objective = new Objective(method, arm, weights, fds, SubsamplingGenerator(seed), recordedTerm?.Invoke(seed), device);
        var batchOrder = new Generator((ulong)seed);
        var curve = new List<EpochRecord>();

        EpochRecord Epoch(optim.Optimizer optimizer, bool stageOne)
        {
            var (loss, term) = TrainEpoch(model, objective, optimizer, trainX, trainY, batchOrder, stageOne);
            var record = new EpochRecord(curve.Count + 1, loss, term, MeanAbsoluteError(model, valX, valY), Diagnose(model, valX, valY));
            curve.Add(record);
            onEpoch(record.Epoch, record);
            return record;
        }

        // Stage one (or the only stage): the whole model.
        var optimizer = optim.Adam(model.parameters().Concat(objective.Parameters).ToList(), options.LearningRate);
        var schedule = options.Schedule == LearningRateSchedule.Cosine ? optim.lr_scheduler.CosineAnnealingLR(optimizer, options.Epochs) : null;
        int bestEpoch = TrainUntilNoBetter(model, options.Epochs, () => { var r = Epoch(optimizer, stageOne: true); schedule?.step(); return r; });

        // Regressor re-training: stage two trains a fresh last layer with re-weighting (SQINV + LDS unless the method has its own).
        if (method.Rrt)
        {
            objective = objective.ForRetraining(training);
            var trainable = RegressorRetraining.Prepare(model, model.Head, new Generator((ulong)seed + 2000));
            var retraining = optim.Adam(trainable, options.LearningRate);
            TrainUntilNoBetter(model, Math.Max(2, options.Epochs / 3), () => Epoch(retraining, stageOne: false));
        }

        var (report, byBin) = Evaluate(model);
        return new RunResult(
            method.Name, seed, report, byBin, curve, bestEpoch, Diagnose(model, valX, valY), MeanAbsoluteError(model, valX, valY), watch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Runs up to <paramref name="epochs"/> epochs, stopping after <see cref="ExperimentSettings.Patience"/> epochs without
    /// a better validation MAE, and leaves <paramref name="model"/> with the weights of its best epoch; that epoch's number.
    /// </summary>
    private int TrainUntilNoBetter(Regressor model, int epochs, Func<EpochRecord> epoch)
    {
        double bestMae = double.PositiveInfinity;
        int bestEpoch = 0, sinceBest = 0;
        Dictionary<string, Tensor>? best = null;
        for (int i = 0; i < epochs && sinceBest < options.Patience; i++)
        {
            var record = epoch();
            if (record.ValMae < bestMae)
            {
                (bestMae, bestEpoch, sinceBest) = (record.ValMae, record.Epoch, 0);
                Dispose(best);
                best = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
            }
            else
            {
                sinceBest++;
            }
        }

        if (best is not null)
        {
            model.load_state_dict(best);
            Dispose(best);
        }

        return bestEpoch;

        static void Dispose(Dictionary<string, Tensor>? state) => state?.Values.ToList().ForEach(t => t.Dispose());
    }

    /// <summary>
    /// One pass over the training set in batches: the mean loss and the mean recorded RankSim term (NaN when none is
    /// recorded). The sums stay on the device; the host reads them once, at the end.
    /// </summary>
    private (double Loss, double RankSimTerm) TrainEpoch(
        Regressor model, Objective objective, optim.Optimizer optimizer, Tensor trainX, Tensor trainY, Generator batchOrder, bool stageOne)
    {
        model.train();
        objective.Fds?.train();
        long n = trainX.size(0);
        var order = randperm(n, generator: batchOrder).to(trainX.device);
        using var lossSum = zeros(1, device: trainX.device);
        using var termSum = zeros(1, device: trainX.device);
        int batches = 0;
        var epochFeatures = new List<(Tensor, Tensor)>();
        for (long start = 0; start + 1 < n; start += options.BatchSize, batches++)
        {
            using var scope = NewDisposeScope();
            var index = order[TensorIndex.Slice(start, Math.Min(start + options.BatchSize, n))];
            var (x, y) = (trainX.index_select(0, index), trainY.index_select(0, index));
            var features = model.Encode(x);
            var pred = model.Head.call(objective.Fds is null ? features : objective.Fds.call(features, y)).squeeze(1);
            var (loss, term) = objective.Loss(pred, features, y, stageOne);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            lossSum.add_(loss.detach());
            if (term is not null)
            {
                termSum.add_(term);
            }

            if (objective.Fds is not null)
            {
                var kept = (features.detach().clone(), y.clone());
                scope.MoveToOuter(kept.Item1, kept.Item2);
                epochFeatures.Add(kept);
            }
        }

        if (objective.Fds is not null)
        {
            objective.Fds.EndEpoch(epochFeatures);
            epochFeatures.ForEach(b => { b.Item1.Dispose(); b.Item2.Dispose(); });
        }

        double meanTerm = objective.RecordsTerm(stageOne) ? termSum.item<float>() / batches : double.NaN;
        return (lossSum.item<float>() / batches, meanTerm);
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
