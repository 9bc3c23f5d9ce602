// DirExperiment: one model, several DIR methods, paired seeds, the DIR table, paired RankSim differences, files and plots.
using System.Globalization;
using DirExperiment;
using RankSim;
using Spectre.Console;
using static TorchSharp.torch;

Options options;
try
{
    if (args.Contains("--help") || args.Contains("-h"))
    {
        Console.WriteLine(Options.Usage);
        return 0;
    }

    options = Options.Parse(args);
    _ = options.Methods.Select(MethodSpec.Parse).ToList();
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Options.Usage);
    return 2;
}

if (options.Device == "cuda" && !cuda.is_available())
{
    Console.Error.WriteLine("--device cuda: no CUDA device is visible to TorchSharp (build with -p:TorchBackend=cuda on a machine with a GPU).");
    return 2;
}

var device = TorchSharp.torch.device(options.Device);

// Every method with RankSim is compared with the same method without it, so that one runs too.
var specs = options.Methods.Select(MethodSpec.Parse).ToList();
foreach (var spec in specs.Where(s => s.RankSim).ToList())
{
    if (!specs.Any(s => s.Name == spec.WithoutRankSim().Name))
    {
        specs.Insert(specs.IndexOf(spec), spec.WithoutRankSim());
    }
}

var methods = specs.Select(s => s.Name).Distinct().ToList();
string output = Path.Combine(options.OutputRoot, DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
Directory.CreateDirectory(output);
bool interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
if (Console.IsOutputRedirected)
{
    // Logs: plain lines instead of progress bars, and tables wide enough not to wrap.
    AnsiConsole.Profile.Width = 180;
}

var results = new List<RunResult>();
var warnings = new List<string>();
Dataset? firstData = null;
LabelDistribution? firstTraining = null;
var started = DateTime.Now;

void RunAll(Action<string, int, int, RunResult?, int?> progress)
{
    for (int seed = 0; seed < options.Seeds; seed++)
    {
        var data = Datasets.Load(options, seed);
        var training = LabelDistribution.FromLabels(data.TrainY, LabelBinning.IntegersFromLabels(cat([data.TrainY, data.ValY, data.TestY])));
        firstData ??= data;
        firstTraining ??= training;
        var trainer = new Trainer(options, data, training, device);
        foreach (var spec in specs.DistinctBy(s => s.Name))
        {
            progress(spec.Name, seed, 0, null, null);
            var result = trainer.Run(spec, seed, (epoch, _) => progress(spec.Name, seed, epoch, null, null));
            progress(spec.Name, seed, options.Epochs, result, null);
            results.Add(result);
            if (result.Collapsed)
            {
                string advice = spec.RankSim ? "; with RankSim, a smaller --gamma or --lambda usually helps" : "";
                warnings.Add($"{result.Method}, seed {seed}: the features collapsed (mean pairwise cosine of a batch above 0.99 for 3 epochs){advice}.");
            }
        }
    }
}

Console.WriteLine($"DirExperiment: {options.Dataset}, methods {string.Join(", ", methods)}, {options.Seeds} seeds, up to {options.Epochs} epochs, gamma {options.Gamma}, lambda {options.Lambda}, device {options.Device}");
if (interactive)
{
    AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
        .Start(ctx =>
        {
            var tasks = new Dictionary<(string, int), ProgressTask>();
            RunAll((method, seed, epoch, result, _) =>
            {
                if (!tasks.TryGetValue((method, seed), out var task))
                {
                    task = tasks[(method, seed)] = ctx.AddTask(Markup.Escape($"{method} (seed {seed})"), maxValue: options.Epochs);
                }

                task.Value = Math.Min(epoch, options.Epochs);
                if (result is not null)
                {
                    task.Description = Markup.Escape($"{method} (seed {seed}): test MAE {Report.Format(result.Test.All.Mae)}");
                    task.StopTask();
                }
            });
        });
}
else
{
    RunAll((method, seed, _, result, _) =>
    {
        if (result is not null)
        {
            Console.WriteLine($"  {method} (seed {seed}): test MAE {Report.Format(result.Test.All.Mae)}, best epoch {result.BestEpoch}, {result.Seconds:F1} s");
        }
    });
}

var data0 = firstData!;
var split = new ShotSplit(firstTraining!);
Console.WriteLine($"data: {data0.Name}: train {data0.TrainY.shape[0]}, val {data0.ValY.shape[0]}, test {data0.TestY.shape[0]} (seed 0); {results.Count} runs in {(DateTime.Now - started).TotalSeconds:F0} s");
AnsiConsole.Write(Report.MetricsTable(methods, results));
var differences = Report.PairedDifferences(methods, results);
if (differences.Count > 0)
{
    AnsiConsole.Write(Report.DifferenceTable(differences));
}

foreach (var warning in warnings)
{
    Console.WriteLine($"warning: {warning}");
}

Report.WriteCsv(Path.Combine(output, "results.csv"), results);
Report.WriteJson(Path.Combine(output, "results.json"), options, data0, results, differences);
Plots.LabelHistogram(Path.Combine(output, "label_histogram.png"), firstTraining!, split);
Plots.MaeByBin(Path.Combine(output, "test_mae_by_bin.png"), methods, results);
Plots.Curves(Path.Combine(output, "curve_train_loss.png"), "training loss", e => e.TrainLoss, methods, results);
Plots.Curves(Path.Combine(output, "curve_ranksim.png"), "RankSim term", e => e.RankSimTerm, methods, results);
Plots.Curves(Path.Combine(output, "curve_val_mae.png"), "validation MAE", e => e.ValMae, methods, results);
Console.WriteLine($"results: {Path.GetFullPath(output)}");
return 0;
