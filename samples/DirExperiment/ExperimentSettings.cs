using System.ComponentModel;
using RankSim;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DirExperiment;

/// <summary>Command-line options of the DIR experiment runner, parsed and checked by Spectre.Console.Cli.</summary>
internal sealed class ExperimentSettings : CommandSettings
{
    public const string DefaultMethods = "Vanilla,RankSim,SQINV,SQINV+RankSim,SQINV+LDS+FDS+RankSim";

    [CommandOption("--dataset <NAME>")]
    [Description("diamonds (bundled diamond prices, in $100 bins; features that carry the label), randhie (bundled RAND HIE doctor visits; weak signal), agedb-like (synthetic images with AgeDB-DIR's label counts), synthetic (generated tabular data with the same counts) or csv (your file: --data, --label)")]
    [DefaultValue("diamonds")]
    public string Dataset { get; init; } = "diamonds";

    [CommandOption("--data <FILE>")]
    [Description("With --dataset csv: a CSV file with a header row; the label column and every other column as a numeric feature. Comma, semicolon or tab separated, quotes and a UTF-8 BOM allowed; numbers with a decimal point")]
    public string? DataFile { get; init; }

    [CommandOption("--label <COLUMN>")]
    [Description("With --dataset csv: the name of the label column")]
    public string? LabelColumn { get; init; }

    [CommandOption("--methods <LIST>")]
    [Description("Comma-separated methods; each is Vanilla or a '+'-joined combination of ranksim, oe, sqinv, inv, lds, fds, focal, bmc, rrt. A method with RankSim or OE also runs without them, for the paired comparison")]
    [DefaultValue(DefaultMethods)]
    public string MethodList { get; init; } = DefaultMethods;

    [CommandOption("--seeds <N>")]
    [TypeConverter(typeof(WholeNumberConverter))]
    [Description("Paired seeds (same split, initialization and batch order for every method); default 5, 2 with --quick")]
    public int? SeedCount { get; init; }

    [CommandOption("--first-seed <N>")]
    [TypeConverter(typeof(WholeNumberConverter))]
    [Description("The first seed: seeds N, N + 1, ... are run (default 0); a later run on new seeds is an independent replication")]
    [DefaultValue(0)]
    public int FirstSeed { get; init; }

    [CommandOption("--epochs <N>")]
    [TypeConverter(typeof(WholeNumberConverter))]
    [Description("Epochs at most (early stopping on validation MAE); default 30, 4 with --quick")]
    public int? EpochCount { get; init; }

    [CommandOption("--patience <N>")]
    [TypeConverter(typeof(WholeNumberConverter))]
    [Description("Epochs without a better validation MAE before stopping")]
    [DefaultValue(8)]
    public int Patience { get; init; } = 8;

    [CommandOption("--batch-size <N>")]
    [TypeConverter(typeof(WholeNumberConverter))]
    [Description("Training batch size (at least 2: RankSim compares samples within a batch)")]
    [DefaultValue(256)]
    public int BatchSize { get; init; } = 256;

    [CommandOption("--learning-rate <RATE>")]
    [Description("Adam learning rate")]
    [DefaultValue(1e-3)]
    public double LearningRate { get; init; } = 1e-3;

    [CommandOption("--gamma <G>")]
    [Description("Weight of the RankSim term in the loss")]
    [DefaultValue(0.1)]
    public double Gamma { get; init; } = 0.1;

    [CommandOption("--lambda <L>")]
    [Description("RankSim's blackbox interpolation strength, in (0, 1e30]]")]
    [DefaultValue(0.5)]
    public double Lambda { get; init; } = 0.5;

    [CommandOption("--perturbation <SCALING>")]
    [Description("RankSim's blackbox perturbation: Paper (the published rule) or PerRow (lambda in standard deviations of each anchor's similarities)")]
    [DefaultValue(PerturbationScaling.Paper)]
    public PerturbationScaling Perturbation { get; init; } = PerturbationScaling.Paper;

    [CommandOption("--similarity <KIND>")]
    [Description("RankSim's feature similarity: Cosine (the paper's) or CenteredCosine (cosine of batch-centered features, an anti-collapse choice)")]
    [DefaultValue(FeatureSimilarity.Cosine)]
    public FeatureSimilarity Similarity { get; init; } = FeatureSimilarity.Cosine;

    [CommandOption("--ranking <KIND>")]
    [Description("How RankSim's feature ranks get a gradient: Blackbox (the paper's; --lambda, --perturbation) or Soft (soft ranks, --soft-regularization)")]
    [DefaultValue(RankingKind.Blackbox)]
    public RankingKind Ranking { get; init; } = RankingKind.Blackbox;

    [CommandOption("--soft-regularization <E>")]
    [Description("With --ranking Soft: the soft ranks' epsilon, in similarity units, in [[1e-30, 1e30]]")]
    [DefaultValue(RankSimArm.DefaultSoftRegularization)]
    public double SoftRegularization { get; init; } = RankSimArm.DefaultSoftRegularization;

    [CommandOption("--ranksim-bin-width <W>")]
    [Description("RankSim keeps one sample per label bin of this width (label units) instead of one per distinct label, which bounds its cost for continuous labels (default: per distinct label, the paper's)")]
    public double? BinWidth { get; init; }

    [CommandOption("--oe-weight <W>")]
    [Description("Weight of the ordinal entropy term (OrdinalEntropyLoss) in the loss, for methods with OE")]
    [DefaultValue(RankSimArm.DefaultOrdinalEntropyWeight)]
    public double OrdinalEntropyWeight { get; init; } = RankSimArm.DefaultOrdinalEntropyWeight;

    [CommandOption("--threads <N>")]
    [Description("CPU threads for libtorch (default: libtorch's choice); 1 lets two runs share a 2-core machine without slowing each other")]
    public int? Threads { get; init; }

    [CommandOption("--study-settings <LIST>")]
    [Description("With --study: the settings to run, of diamonds, synthetic, randhie, agedb-like (default: all)")]
    [DefaultValue(DirExperiment.Study.AllSettings)]
    public string StudySettings { get; init; } = DirExperiment.Study.AllSettings;

    [CommandOption("--study-dir <DIR>")]
    [Description("With --study: the folder of the study's results; runs already in its runs.jsonl are not run again (a study can be resumed, or split over processes by --study-settings)")]
    public string? StudyDirectory { get; init; }

    [CommandOption("--study-shard <K/N>")]
    [Description("With --study and --study-dir: run only the replication seeds whose index is K modulo N (from 0), so that N processes share the last phase once the sweep and the comparison are in the folder")]
    public string? StudyShard { get; init; }

    [CommandOption("--schedule <KIND>")]
    [Description("Learning-rate schedule: Constant, or Cosine (annealed to 0 over --epochs, stepped once an epoch)")]
    [DefaultValue(LearningRateSchedule.Constant)]
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    [CommandOption("--device <DEVICE>")]
    [Description("cpu or cuda (cuda needs a build with -p:TorchBackend=cuda)")]
    [DefaultValue("cpu")]
    public string Device { get; init; } = "cpu";

    [CommandOption("--out <DIR>")]
    [Description("Folder that receives one results/<timestamp> folder per run")]
    [DefaultValue("results")]
    public string OutputRoot { get; init; } = "results";

    [CommandOption("--study")]
    [Description("The regularizer study instead of one experiment: on diamonds, synthetic, randhie and agedb-like, arms fixed in advance (RankSim at gamma 0.1 lambda 0.5; RankSim at lambda 2 with gamma chosen on validation seeds; OE; RankSim + OE) against Vanilla and SQINV on paired seeds, then the best arm per setting on ten new seeds; --dataset, --methods, --seeds, --schedule and the regularizer options are not used")]
    public bool Study { get; init; }

    [CommandOption("--quick")]
    [Description("A smoke run in well under a minute: 2 seeds, 4 epochs, a quarter of the agedb-like images")]
    public bool Quick { get; init; }

    /// <summary>The RankSim configuration of the single-experiment mode.</summary>
    public RankSimArm Arm => new(Gamma, Lambda, Perturbation, Similarity, Ranking, SoftRegularization, OrdinalEntropyWeight, BinWidth);

    /// <summary>The shard of the study's replication phase this process runs (K of N), or null for all of it.</summary>
    public (int Index, int Count)? Shard =>
        StudyShard?.Split('/') is [var k, var n] && int.TryParse(k, out int index) && int.TryParse(n, out int count) && count > 0 && index >= 0 && index < count
            ? (index, count)
            : null;

    /// <summary>Paired seeds to run.</summary>
    public int Seeds => SeedCount ?? (Quick ? 2 : 5);

    /// <summary>Epochs at most.</summary>
    public int Epochs => EpochCount ?? (Quick ? 4 : 30);

    /// <summary>The methods as given, in order.</summary>
    public IReadOnlyList<string> Methods => MethodList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override ValidationResult Validate()
    {
        string? error = Dataset switch
        {
            "randhie" or "diamonds" or "agedb-like" or "synthetic" when DataFile is not null || LabelColumn is not null => "--data and --label belong to --dataset csv.",
            "randhie" or "diamonds" or "agedb-like" or "synthetic" => null,
            "csv" when DataFile is null || LabelColumn is null => "--dataset csv needs --data FILE and --label COLUMN.",
            "csv" => null,
            _ => $"--dataset: unknown dataset '{Dataset}'; use randhie, diamonds, agedb-like, synthetic or csv.",
        };
        error ??= SeedCount is < 1 ? "--seeds must be a positive whole number."
            : FirstSeed < 0 || FirstSeed > 1_000_000 ? "--first-seed must be a whole number from 0 to 1000000."
            : EpochCount is < 1 ? "--epochs must be a positive whole number."
            : Patience < 1 ? "--patience must be a positive whole number."
            : BatchSize < 2 ? "--batch-size must be at least 2."
            : !(double.IsFinite(LearningRate) && LearningRate > 0) ? "--learning-rate must be a finite positive number."
            : !(double.IsFinite(Gamma) && Gamma > 0) ? "--gamma must be a finite positive number."
            : !(OrdinalEntropyWeight is > 0 and <= 1e6) ? "--oe-weight must be a number in (0, 1e6]."
            : BinWidth is double width && !(double.IsFinite(width) && width > 0) ? "--ranksim-bin-width must be a finite positive number."
            : Threads is < 1 or > 1024 ? "--threads must be a whole number from 1 to 1024."
            : StudySettings.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is var names
                && (names.Length == 0 || names.Any(n => !DirExperiment.Study.AllSettings.Split(',').Contains(n))) ? $"--study-settings: give some of {DirExperiment.Study.AllSettings}."
            : StudyDirectory is not null && File.Exists(StudyDirectory) ? $"--study-dir {StudyDirectory} is a file; give a folder."
            : StudyShard is not null && Shard is null ? "--study-shard must be K/N with whole numbers 0 <= K < N."
            : StudyShard is not null && StudyDirectory is null ? "--study-shard needs --study-dir (the shards share its runs)."
            : Device is not ("cpu" or "cuda") ? "--device must be cpu or cuda."
            : Methods.Count == 0 ? $"--methods: no method in '{MethodList}'; give e.g. {DefaultMethods}."
            : File.Exists(OutputRoot) ? $"--out {OutputRoot} is a file; give a folder."
            : null;
        if (error is null)
        {
            try
            {
                foreach (string method in Methods)
                {
                    _ = MethodSpec.Parse(method);
                }
            }
            catch (ArgumentException ex)
            {
                error = $"--methods: {ex.Message}";
            }
        }

        return error is null ? ValidationResult.Success() : ValidationResult.Error(error);
    }
}

/// <summary>The learning-rate schedule of a run.</summary>
internal enum LearningRateSchedule
{
    /// <summary>The learning rate stays as given.</summary>
    Constant,

    /// <summary>Cosine annealing from the given rate to 0 over the epochs (Loshchilov and Hutter, SGDR, ICLR 2017, without restarts).</summary>
    Cosine,
}
