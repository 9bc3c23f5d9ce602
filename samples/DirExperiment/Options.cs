using System.Globalization;

namespace DirExperiment;

/// <summary>Command-line options of the DIR experiment runner.</summary>
internal sealed record Options
{
    public string Dataset { get; init; } = "randhie";
    public string? DataFile { get; init; }
    public string? LabelColumn { get; init; }
    public IReadOnlyList<string> Methods { get; init; } = ["Vanilla", "RankSim", "SQINV", "SQINV+RankSim", "SQINV+LDS+FDS+RankSim"];
    public int Seeds { get; init; } = 5;
    public int Epochs { get; init; } = 30;
    public int Patience { get; init; } = 8;
    public int BatchSize { get; init; } = 256;
    public double LearningRate { get; init; } = 1e-3;
    public double Gamma { get; init; } = 0.1;
    public double Lambda { get; init; } = 0.5;
    public string Device { get; init; } = "cpu";
    public string OutputRoot { get; init; } = "results";
    public bool Quick { get; init; }

    public const string Usage = """
        DirExperiment: trains one model under several deep-imbalanced-regression methods with paired seeds and reports
        the DIR metrics (MAE and GM for all / many / medium / few-shot labels).

          --dataset randhie|agedb-like|csv   data (default randhie, bundled)
          --data FILE --label COLUMN         with --dataset csv: a CSV with a header; every other column is a feature
          --methods LIST                     comma-separated; each method is Vanilla or a '+'-joined combination of
                                             rankSim, sqinv, inv, lds, fds, focal, bmc, rrt
                                             (default Vanilla,RankSim,SQINV,SQINV+RankSim,SQINV+LDS+FDS+RankSim)
          --seeds N          paired seeds (default 5)       --epochs N       epochs at most (default 30)
          --batch-size N     (default 256)                  --gamma G        RankSim weight (default 0.1)
          --lambda L         blackbox interpolation (default 0.5)
          --device cpu|cuda  (cuda needs a build with -p:TorchBackend=cuda)
          --out DIR          results folder (default results/<timestamp>)
          --quick            2 seeds, 4 epochs: a smoke run in well under a minute
        """;

    public static Options Parse(string[] args)
    {
        var options = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Positive() => int.TryParse(Value(), out int n) && n > 0 ? n : throw new ArgumentException($"{args[i - 1]} needs a positive whole number.");
            double Number() => double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.IsFinite(x) && x > 0
                ? x : throw new ArgumentException($"{args[i - 1]} needs a positive number.");
            options = args[i] switch
            {
                "--dataset" => options with { Dataset = Value().ToLowerInvariant() },
                "--data" => options with { DataFile = Value() },
                "--label" => options with { LabelColumn = Value() },
                "--methods" => options with { Methods = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--seeds" => options with { Seeds = Positive() },
                "--epochs" => options with { Epochs = Positive() },
                "--batch-size" => options with { BatchSize = Positive() },
                "--gamma" => options with { Gamma = Number() },
                "--lambda" => options with { Lambda = Number() },
                "--device" => options with { Device = Value() },
                "--out" => options with { OutputRoot = Value() },
                "--quick" => options with { Quick = true, Seeds = 2, Epochs = 4 },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }

        if (options.Dataset is not ("randhie" or "agedb-like" or "csv"))
        {
            throw new ArgumentException($"Unknown dataset '{options.Dataset}'.");
        }

        if (options.Dataset == "csv" && (options.DataFile is null || options.LabelColumn is null))
        {
            throw new ArgumentException("--dataset csv needs --data FILE and --label COLUMN.");
        }

        if (options.Device is not ("cpu" or "cuda"))
        {
            throw new ArgumentException("--device must be cpu or cuda.");
        }

        return options;
    }
}
