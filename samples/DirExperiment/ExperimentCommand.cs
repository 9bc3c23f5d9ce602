using RankSim;
using RankSim.Dir;
using Spectre.Console;
using Spectre.Console.Cli;
using static TorchSharp.torch;

namespace DirExperiment;

/// <summary>
/// One model, several DIR methods, paired seeds: the DIR table, RankSim's paired differences, CSV/JSON files and plots.
/// Options and data are checked before any training; a run that fails leaves no results folder behind.
/// </summary>
internal sealed class ExperimentCommand : Command<ExperimentSettings>
{
    public override ValidationResult Validate(CommandContext context, ExperimentSettings settings)
    {
        // The library's own check of lambda (and of nothing else that could fail later, in the middle of a run).
        try
        {
            _ = FeatureRanking.Blackbox(settings.Lambda);
        }
        catch (ArgumentException ex)
        {
            return ValidationResult.Error($"--lambda: {ex.Message.Split(Environment.NewLine)[0]}");
        }

        try
        {
            _ = FeatureRanking.Soft(settings.SoftRegularization);
        }
        catch (ArgumentException ex)
        {
            return ValidationResult.Error($"--soft-regularization: {ex.Message.Split(Environment.NewLine)[0]}");
        }

        if (settings.Device == "cuda" && !cuda.is_available())
        {
            return ValidationResult.Error("--device cuda: no CUDA device is visible to TorchSharp (build with -p:TorchBackend=cuda on a machine with a GPU).");
        }

        return base.Validate(context, settings);
    }

    public override int Execute(CommandContext context, ExperimentSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Threads is int threads)
        {
            TorchSharp.torch.set_num_threads(threads);
        }

        if (settings.Study)
        {
            // A study folder given by --study-dir is kept whatever happens: it holds the runs to resume from.
            if (settings.StudyDirectory is { } kept)
            {
                RequireWritableFolder(kept);
                Study.Run(settings, TorchSharp.torch.device(settings.Device), kept, cancellationToken);
                Console.WriteLine($"results: {Path.GetFullPath(kept)}");
                return 0;
            }

            var folder = OutputFolder.Create(settings.OutputRoot);
            try
            {
                Study.Run(settings, TorchSharp.torch.device(settings.Device), folder.Path, cancellationToken);
            }
            catch
            {
                folder.Discard();
                throw;
            }

            Console.WriteLine($"results: {folder.Path}");
            return 0;
        }

        var data = Datasets.Open(settings);
        var device = TorchSharp.torch.device(settings.Device);

        // Every method with a feature regularizer (RankSim, OE) is compared with the same method without it, so that one runs too.
        var specs = settings.Methods.Select(MethodSpec.Parse).ToList();
        foreach (var spec in specs.Where(s => s.Regularized).ToList())
        {
            if (!specs.Any(s => s.Name == spec.WithoutRegularizers().Name))
            {
                specs.Insert(specs.IndexOf(spec), spec.WithoutRegularizers());
            }
        }

        // The data of the first seed, to check every method against its labels before any training.
        var first = data(settings.FirstSeed);
        Trainer.CheckMethods(specs, Training(first));
        var output = OutputFolder.Create(settings.OutputRoot);
        try
        {
            Run(settings, seed => seed == settings.FirstSeed ? first : data(seed), specs.DistinctBy(s => s.Name).ToList(), device, output.Path, cancellationToken);
        }
        catch
        {
            output.Discard();
            throw;
        }

        Console.WriteLine($"results: {output.Path}");
        return 0;
    }

    /// <summary>Creates <paramref name="folder"/> if needed and checks that a file can be written in it.</summary>
    /// <exception cref="InputException">It cannot.</exception>
    private static void RequireWritableFolder(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            string probe = Path.Combine(folder, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new InputException($"--study-dir {folder}: cannot write the study's files there ({ex.Message}).");
        }
    }

    /// <summary>The training labels' distribution over the integer bins that cover every split.</summary>
    private static LabelDistribution Training(Dataset data) =>
        LabelDistribution.FromLabels(data.TrainY, LabelBinning.IntegersFromLabels(cat([data.TrainY, data.ValY, data.TestY])));

    private static void Run(ExperimentSettings settings, Func<int, Dataset> load, List<MethodSpec> specs, Device device, string output, CancellationToken cancellationToken)
    {
        var methods = specs.Select(s => s.Name).ToList();
        var results = new List<RunResult>();
        Dataset? firstData = null;
        LabelDistribution? firstTraining = null;
        var started = DateTime.Now;

        Console.WriteLine($"DirExperiment: {settings.Dataset}, methods {string.Join(", ", methods)}, {settings.Seeds} seeds, up to {settings.Epochs} epochs, RankSim [{settings.Arm.Label}], learning rate {settings.LearningRate} ({settings.Schedule}), device {settings.Device}");
        RunProgress.Show(settings.Seeds * specs.Count, settings.Epochs, progress =>
        {
            for (int seed = settings.FirstSeed; seed < settings.FirstSeed + settings.Seeds; seed++)
            {
                var data = load(seed);
                var training = Training(data);
                firstData ??= data;
                firstTraining ??= training;
                var trainer = new Trainer(settings, data, training, device);
                foreach (var spec in specs)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    string run = $"{spec.Name} (seed {seed})";
                    progress.Epoch(run, 0);
                    var result = trainer.Run(spec, seed, settings.Arm, (epoch, _) => progress.Epoch(run, epoch));
                    progress.Finished(run, $"test MAE {Report.Format(result.Test.All.Mae)}, best epoch {result.BestEpoch}, {result.Seconds:F1} s");
                    results.Add(result);
                }
            }
        });

        var data0 = firstData!;
        var split = new ShotSplit(firstTraining!);
        var bins = split.BinGroups;
        Console.WriteLine($"data: {data0.Name}: train {data0.TrainY.shape[0]}, val {data0.ValY.shape[0]}, test {data0.TestY.shape[0]} (seed {settings.FirstSeed}); "
            + $"label bins many/medium/few-shot {bins.Count(g => g == ShotGroup.Many)}/{bins.Count(g => g == ShotGroup.Medium)}/{bins.Count(g => g == ShotGroup.Few)}; "
            + $"{results.Count} runs in {(DateTime.Now - started).TotalSeconds:F0} s");
        AnsiConsole.Write(Report.MetricsTable(methods, results));
        var differences = Report.PairedDifferences(methods, results);
        if (differences.Count > 0)
        {
            AnsiConsole.Write(Report.DifferenceTable(differences));
        }

        foreach (var result in results)
        {
            if (RunCollapse.Reason(result, results) is { } reason)
            {
                string advice = MethodSpec.Parse(result.Method).RankSim ? "; with RankSim, a smaller --gamma or --lambda usually helps" : "";
                Console.WriteLine($"warning: {result.Method}, seed {result.Seed}: collapse: {reason}{advice}.");
            }
        }

        Report.WriteCsv(Path.Combine(output, "results.csv"), results);
        Report.WriteJson(Path.Combine(output, "results.json"), settings, data0, results, differences);
        Plots.LabelHistogram(Path.Combine(output, "label_histogram.png"), firstTraining!, split);
        Plots.MaeByBin(Path.Combine(output, "test_mae_by_bin.png"), methods, results);
        Plots.Curves(Path.Combine(output, "curve_train_loss.png"), "training loss", e => e.TrainLoss, methods, results);
        Plots.Curves(Path.Combine(output, "curve_ranksim.png"), "RankSim term", e => e.RankSimTerm, methods, results);
        Plots.Curves(Path.Combine(output, "curve_val_mae.png"), "validation MAE", e => e.ValMae, methods, results);
    }
}
