using System.Globalization;
using System.Text;
using System.Text.Json;
using nietras.SeparatedValues;
using RankSim;
using RankSim.Dir;
using static TorchSharp.torch;

namespace DirExperiment;

/// <summary>
/// The regularizer study. Four settings that differ in kind: diamonds (real tabular data whose features carry the
/// price, MLP), generated AgeDB-shaped tabular data (a smooth function of the label plus noise, MLP), RAND HIE (real
/// tabular data with weak signal, MLP) and AgeDB-shaped synthetic images (CNN). Four arms, fixed before any run, are
/// added to the baselines Vanilla and SQINV (the CNN: Vanilla only, a run costs about a minute):
/// <list type="number">
/// <item>RankSim at the sample's default, gamma 0.1 and lambda 0.5;</item>
/// <item>RankSim at the paper's lambda 2 with gamma chosen from <see cref="SweepGammas"/> on validation;</item>
/// <item>OrdinalEntropy alone, its weight chosen from <see cref="SweepOrdinalEntropyWeights"/> on validation;</item>
/// <item>RankSim at gamma 0.1 / lambda 0.5 plus OrdinalEntropy at the weight chosen for arm 3.</item>
/// </list>
/// Phases, per setting: (1) the sweep on <see cref="SweepSeeds"/>, which no comparison uses: the value with the lowest
/// mean selected validation MAE wins; (2) the comparison on the main seeds: every baseline and every arm on the same
/// seeds (same split, initialization and batch order), epochs selected on validation MAE only, test MAE compared in
/// pairs; (3) the replication: the arm with the lowest mean paired difference on MAE All in phase 2, with its baseline,
/// on ten new seeds. Every run is appended to runs-SETTING.jsonl in the study's folder as it finishes, and a run found
/// there is not run again, so a study can be resumed, or split over processes by setting, and its replication phase by
/// seed (--study-shard).
/// </summary>
internal static class Study
{
    /// <summary>The settings, in the order they run.</summary>
    public const string AllSettings = "diamonds,synthetic,randhie,agedb-like";

    /// <summary>The gammas tried for RankSim at lambda 2.</summary>
    public static readonly double[] SweepGammas = [0.1, 0.3, 1.0];

    /// <summary>The weights tried for OrdinalEntropy.</summary>
    public static readonly double[] SweepOrdinalEntropyWeights = [0.1, 1.0];

    /// <summary>Seeds of the sweep; no comparison uses them.</summary>
    public static readonly int[] SweepSeeds = [1000, 1001];

    private const double DefaultGamma = 0.1;
    private const double DefaultLambda = 0.5;
    private const double PaperLambda = 2.0;
    private const int ReplicationSeeds = 10;

    /// <summary>
    /// One setting: a dataset, the baselines the arms are added to, and the epochs of a run (cosine schedule; 40 where a
    /// run costs about a second per epoch, the CNN and diamonds, so that the study fits in a working day on two cores).
    /// </summary>
    private sealed record Setting(string Dataset, string Name, string[] Bases, int Epochs);

    private static readonly Setting[] Settings =
    [
        new("diamonds", "diamonds", ["Vanilla", "SQINV"], 40),
        new("synthetic", "generated tabular", ["Vanilla", "SQINV"], 100),
        new("randhie", "RAND HIE", ["Vanilla", "SQINV"], 100),
        new("agedb-like", "AgeDB-like images", ["Vanilla"], 40),
    ];

    /// <summary>An arm: which regularizers it adds and how its settings are found.</summary>
    internal sealed record Arm(string Name, bool RankSim, bool OrdinalEntropy, bool TunedGamma)
    {
        public string Method(string baseName) =>
            (baseName == "Vanilla" ? "" : baseName + "+") + string.Join("+", new[] { RankSim ? "RankSim" : null, OrdinalEntropy ? "OE" : null }.OfType<string>());

        public RankSimArm Settings(Tuning tuning) =>
            new(TunedGamma ? tuning.Gamma : DefaultGamma, TunedGamma ? PaperLambda : DefaultLambda, PerturbationScaling.Paper, OrdinalEntropyWeight: tuning.OrdinalEntropyWeight);
    }

    /// <summary>The arms, fixed before any run.</summary>
    public static readonly Arm[] Arms =
    [
        new("RankSim γ 0.1 λ 0.5", RankSim: true, OrdinalEntropy: false, TunedGamma: false),
        new("RankSim λ 2, γ tuned", RankSim: true, OrdinalEntropy: false, TunedGamma: true),
        new("OE, weight tuned", RankSim: false, OrdinalEntropy: true, TunedGamma: false),
        new("RankSim γ 0.1 λ 0.5 + OE", RankSim: true, OrdinalEntropy: true, TunedGamma: false),
    ];

    /// <summary>The values chosen by the sweep for one setting and baseline.</summary>
    internal sealed record Tuning(double Gamma, double OrdinalEntropyWeight);

    /// <summary>One finished run, as stored in runs-SETTING.jsonl.</summary>
    internal sealed record RunRecord(
        string Phase, string Setting, string Base, string Arm, double Gamma, double Lambda, double OrdinalEntropyWeight, int Seed,
        double TestMaeAll, double TestMaeMany, double TestMaeMedium, double TestMaeFew, double ValMae, int BestEpoch, int Epochs,
        double Seconds, double RankSimTerm, FeatureDiagnostics Diagnostics)
    {
        public string Key => string.Join("|", Phase, Setting, Base, Arm, Format(Gamma), Format(Lambda), Format(OrdinalEntropyWeight), Seed);
    }

    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Run(ExperimentSettings settings, Device device, string folder, CancellationToken cancellationToken)
    {
        var chosen = settings.StudySettings.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int[] mainSeeds = [.. Enumerable.Range(settings.FirstSeed, settings.Quick ? 2 : 5)];
        int[] replicationSeeds = [.. Enumerable.Range(mainSeeds[^1] + 1, settings.Quick ? 2 : ReplicationSeeds)];
        int[] sweepSeeds = settings.Quick ? SweepSeeds[..1] : SweepSeeds;
        var started = DateTime.Now;
        foreach (var setting in Settings.Where(s => chosen.Contains(s.Dataset)))
        {
            string file = Path.Combine(folder, $"runs-{setting.Dataset}.jsonl");
            var done = Load(file).ToDictionary(r => r.Key);
            var runSettings = new ExperimentSettings
            {
                EpochCount = settings.EpochCount ?? (settings.Quick ? 4 : setting.Epochs),
                Schedule = LearningRateSchedule.Cosine,
                Patience = settings.Patience,
                BatchSize = settings.BatchSize,
                LearningRate = settings.LearningRate,
                Quick = settings.Quick,
            };
            var load = Datasets.Open(setting.Dataset, settings.Quick, null, null);
            var trainers = new Dictionary<int, Trainer>();
            Trainer TrainerFor(int seed)
            {
                if (!trainers.TryGetValue(seed, out var trainer))
                {
                    var data = load(seed);
                    var training = LabelDistribution.FromLabels(data.TrainY, LabelBinning.IntegersFromLabels(cat([data.TrainY, data.ValY, data.TestY])));
                    trainers[seed] = trainer = new Trainer(runSettings, data, training, device);
                }

                return trainer;
            }

            RunRecord Ensure(string phase, string baseName, string arm, string method, RankSimArm config, int seed)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var key = new RunRecord(phase, setting.Dataset, baseName, arm, config.Gamma, config.Lambda, config.OrdinalEntropyWeight, seed,
                    0, 0, 0, 0, 0, 0, 0, 0, 0, null!).Key;
                if (done.TryGetValue(key, out var existing))
                {
                    return existing;
                }

                var result = TrainerFor(seed).Run(MethodSpec.Parse(method), seed, config, (_, _) => { }, PaperTerm);
                var record = new RunRecord(phase, setting.Dataset, baseName, arm, config.Gamma, config.Lambda, config.OrdinalEntropyWeight, seed,
                    result.Test.All.Mae, result.Test.Many.Mae, result.Test.Medium.Mae, result.Test.Few.Mae, result.ValMae, result.BestEpoch,
                    result.Curve.Count, result.Seconds, result.Curve[^1].RankSimTerm, result.Diagnostics);
                RunLog.Append(file, record, Json);
                done[key] = record;
                Console.WriteLine($"  {setting.Dataset} {phase}, seed {seed}: {method} [{arm}, γ {Format(config.Gamma)} λ {Format(config.Lambda)} OE {Format(config.OrdinalEntropyWeight)}] "
                    + $"test MAE {Report.Format(record.TestMaeAll)}, val MAE {Report.Format(record.ValMae)}, best epoch {record.BestEpoch}/{record.Epochs}, {record.Seconds:F1} s");
                return record;
            }

            // Phase 1: the sweep, per baseline.
            var tunings = new Dictionary<string, Tuning>();
            foreach (string baseName in setting.Bases)
            {
                double Mean(string arm, string method, RankSimArm config) => sweepSeeds.Average(seed => Ensure("sweep", baseName, arm, method, config, seed).ValMae);
                double gamma = SweepGammas.MinBy(g => Mean(Arms[1].Name, Arms[1].Method(baseName), new RankSimArm(g, PaperLambda, PerturbationScaling.Paper)));
                double weight = SweepOrdinalEntropyWeights.MinBy(w => Mean(Arms[2].Name, Arms[2].Method(baseName),
                    new RankSimArm(DefaultGamma, DefaultLambda, PerturbationScaling.Paper, OrdinalEntropyWeight: w)));
                tunings[baseName] = new Tuning(gamma, weight);
                Console.WriteLine($"{setting.Dataset}, {baseName}: chosen on validation: RankSim λ 2 γ {Format(gamma)}, OE weight {Format(weight)}");
            }

            // Phase 2: the comparison on the main seeds.
            var none = new RankSimArm(DefaultGamma, DefaultLambda, PerturbationScaling.Paper);
            foreach (int seed in mainSeeds)
            {
                foreach (string baseName in setting.Bases)
                {
                    Ensure("main", baseName, "none", baseName, none, seed);
                    foreach (var arm in Arms)
                    {
                        Ensure("main", baseName, arm.Name, arm.Method(baseName), arm.Settings(tunings[baseName]), seed);
                    }
                }
            }

            // Phase 3: the arm with the lowest mean paired difference on MAE All, on new seeds.
            var best = setting.Bases.SelectMany(b => Arms.Select(a => (Base: b, Arm: a)))
                .MinBy(p => mainSeeds.Average(seed => done[Key("main", setting.Dataset, p.Base, p.Arm.Name, p.Arm.Settings(tunings[p.Base]), seed)].TestMaeAll
                    - done[Key("main", setting.Dataset, p.Base, "none", none, seed)].TestMaeAll));
            Console.WriteLine($"{setting.Dataset}: replicated: {best.Base} + [{best.Arm.Name}] on seeds {replicationSeeds[0]}-{replicationSeeds[^1]}");
            var (shard, shards) = settings.Shard ?? (0, 1);
            foreach (int seed in replicationSeeds.Where((_, i) => i % shards == shard))
            {
                Ensure("replication", best.Base, "none", best.Base, none, seed);
                Ensure("replication", best.Base, best.Arm.Name, best.Arm.Method(best.Base), best.Arm.Settings(tunings[best.Base]), seed);
            }
        }

        Console.WriteLine($"study: {(DateTime.Now - started).TotalMinutes:F1} min");
        var all = Settings.SelectMany(s => Load(Path.Combine(folder, $"runs-{s.Dataset}.jsonl"))).ToList();
        string report = Markdown(all, sweepSeeds, mainSeeds, replicationSeeds);
        File.WriteAllText(Path.Combine(folder, "study.md"), report);
        WriteCsv(Path.Combine(folder, "study.csv"), all);
        Console.WriteLine(report);
    }

    /// <summary>The paper's term (cosine, exact ranks, lambda 0.5) recorded for every run, with the run's subsampling seed.</summary>
    private static RankSimLoss PaperTerm(int seed) => new(FeatureRanking.Blackbox(DefaultLambda), generator: Trainer.SubsamplingGenerator(seed));

    private static string Key(string phase, string setting, string baseName, string arm, RankSimArm config, int seed) =>
        new RunRecord(phase, setting, baseName, arm, config.Gamma, config.Lambda, config.OrdinalEntropyWeight, seed, 0, 0, 0, 0, 0, 0, 0, 0, 0, null!).Key;

    private static List<RunRecord> Load(string file) => RunLog.Load<RunRecord>(file, Json);

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Signed(double value) => value.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture);

    private static string Difference(PairedComparison c) =>
        $"{Signed(c.MeanDifference)} ± {Report.Format(c.StandardError)} ({c.Lower}/{c.Count})";

    /// <summary>The tables: choices of the sweep, the comparison, and the replication.</summary>
    private static string Markdown(IReadOnlyList<RunRecord> runs, int[] sweepSeeds, int[] mainSeeds, int[] replicationSeeds)
    {
        var text = new StringBuilder();
        text.AppendLine("## Chosen on validation (sweep seeds " + string.Join(", ", sweepSeeds) + ")").AppendLine();
        text.AppendLine("| setting | base | RankSim λ 2: mean val MAE per γ | γ | OE: mean val MAE per weight | weight |");
        text.AppendLine("| --- | --- | --- | ---: | --- | ---: |");
        foreach (var group in runs.Where(r => r.Phase == "sweep").GroupBy(r => (r.Setting, r.Base)))
        {
            string Per(string arm, Func<RunRecord, double> value) => string.Join(", ", group.Where(r => r.Arm == arm).GroupBy(value)
                .Select(g => $"{Format(g.Key)}: {Report.Format(g.Average(r => r.ValMae))}"));
            double Chosen(string arm, Func<RunRecord, double> value) => group.Where(r => r.Arm == arm).GroupBy(value).MinBy(g => g.Average(r => r.ValMae))?.Key ?? double.NaN;
            text.AppendLine($"| {Name(group.Key.Setting)} | {group.Key.Base} | {Per(Arms[1].Name, r => r.Gamma)} | {Format(Chosen(Arms[1].Name, r => r.Gamma))} | "
                + $"{Per(Arms[2].Name, r => r.OrdinalEntropyWeight)} | {Format(Chosen(Arms[2].Name, r => r.OrdinalEntropyWeight))} |");
        }

        foreach (var (phase, title) in new[] { ("main", $"Comparison (seeds {mainSeeds[0]}-{mainSeeds[^1]})"), ("replication", $"Replication of the best arm per setting (seeds {replicationSeeds[0]}-{replicationSeeds[^1]})") })
        {
            text.AppendLine().AppendLine($"## {title}").AppendLine();
            text.AppendLine("Test MAE of the arm, and its paired difference with the baseline on the same seeds: mean ± standard error (seeds lower). "
                + "Collapsed: the outcome rule (CollapseCheck). Best epoch: mean selected epoch of mean epochs run, and the runs whose best epoch was the last.").AppendLine();
            text.AppendLine("| setting | base | arm | MAE All | Δ All | Δ Few | eff. rank with / without | Spearman with / without | collapsed | best epoch (last) | time |");
            text.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            var phaseRuns = runs.Where(r => r.Phase == phase).ToList();
            foreach (var setting in Settings)
            {
                foreach (string baseName in setting.Bases)
                {
                    var baseRuns = phaseRuns.Where(r => r.Setting == setting.Dataset && r.Base == baseName && r.Arm == "none").ToDictionary(r => r.Seed);
                    if (baseRuns.Count == 0)
                    {
                        continue;
                    }

                    text.AppendLine(Row(setting, baseName, "none (baseline)", [.. baseRuns.Values], null));
                    foreach (var arm in Arms)
                    {
                        var armRuns = phaseRuns.Where(r => r.Setting == setting.Dataset && r.Base == baseName && r.Arm == arm.Name && baseRuns.ContainsKey(r.Seed)).ToList();
                        if (armRuns.Count > 0)
                        {
                            text.AppendLine(Row(setting, baseName, arm.Name, armRuns, baseRuns));
                        }
                    }
                }
            }
        }

        return text.ToString();
    }

    private static string Name(string dataset) => Settings.Single(s => s.Dataset == dataset).Name;

    private static string Row(Setting setting, string baseName, string arm, List<RunRecord> runs, Dictionary<int, RunRecord>? baseRuns)
    {
        double mean = runs.Average(r => r.TestMaeAll);
        double sd = runs.Count > 1 ? Math.Sqrt(runs.Sum(r => (r.TestMaeAll - mean) * (r.TestMaeAll - mean)) / (runs.Count - 1)) : double.NaN;
        string bestEpoch = $"{runs.Average(r => r.BestEpoch):F1} of {runs.Average(r => r.Epochs):F1} ({runs.Count(r => r.BestEpoch == r.Epochs)})";
        if (baseRuns is null)
        {
            return $"| {setting.Name} | {baseName} | {arm} | {Report.Format(mean)} ± {Report.Format(sd)} | | | {runs.Average(r => r.Diagnostics.EffectiveRank):F1} | "
                + $"{Report.Format(runs.Average(r => r.Diagnostics.SimilarityLabelSpearman))} | {runs.Count(r => Collapsed(r, null))}/{runs.Count} | {bestEpoch} | {runs.Average(r => r.Seconds):F0} s |";
        }

        var without = runs.Select(r => baseRuns[r.Seed]).ToList();
        var all = PairedComparison.Of([.. runs.Select(r => r.TestMaeAll)], [.. without.Select(r => r.TestMaeAll)]);
        var few = PairedComparison.Of([.. runs.Select(r => r.TestMaeFew)], [.. without.Select(r => r.TestMaeFew)]);
        return $"| {setting.Name} | {baseName} | {arm} | {Report.Format(mean)} ± {Report.Format(sd)} | {Difference(all)} | {Difference(few)} | "
            + $"{runs.Average(r => r.Diagnostics.EffectiveRank):F1} / {without.Average(r => r.Diagnostics.EffectiveRank):F1} | "
            + $"{Report.Format(runs.Average(r => r.Diagnostics.SimilarityLabelSpearman))} / {Report.Format(without.Average(r => r.Diagnostics.SimilarityLabelSpearman))} | "
            + $"{runs.Count(r => Collapsed(r, baseRuns[r.Seed]))}/{runs.Count} | {bestEpoch} | {runs.Average(r => r.Seconds):F0} s |";
    }

    /// <summary>The outcome rule: near-constant predictions, or validation MAE far worse than the baseline's on the same seed.</summary>
    private static bool Collapsed(RunRecord run, RunRecord? baseline) =>
        !double.IsNaN(run.Diagnostics.PredictionSpread) && CollapseCheck.Judge(run.Diagnostics, run.ValMae, baseline?.ValMae).Collapsed;

    private static void WriteCsv(string path, IReadOnlyList<RunRecord> runs)
    {
        using var writer = Sep.New(',').Writer(o => o with { CultureInfo = CultureInfo.InvariantCulture }).ToFile(path);
        foreach (var r in runs)
        {
            using var row = writer.NewRow();
            row["phase"].Set(r.Phase);
            row["setting"].Set(r.Setting);
            row["base"].Set(r.Base);
            row["arm"].Set(r.Arm);
            row["gamma"].Format(r.Gamma);
            row["lambda"].Format(r.Lambda);
            row["oe_weight"].Format(r.OrdinalEntropyWeight);
            row["seed"].Format(r.Seed);
            row["test_mae_all"].Format(r.TestMaeAll);
            row["test_mae_many"].Format(r.TestMaeMany);
            row["test_mae_medium"].Format(r.TestMaeMedium);
            row["test_mae_few"].Format(r.TestMaeFew);
            row["val_mae"].Format(r.ValMae);
            row["best_epoch"].Format(r.BestEpoch);
            row["epochs_run"].Format(r.Epochs);
            row["seconds"].Format(r.Seconds);
            row["ranksim_term"].Format(r.RankSimTerm);
            row["effective_rank"].Format(r.Diagnostics.EffectiveRank);
            row["spearman"].Format(r.Diagnostics.SimilarityLabelSpearman);
            row["mean_cosine"].Format(r.Diagnostics.MeanCosine);
            row["prediction_spread"].Format(r.Diagnostics.PredictionSpread);
        }
    }
}
