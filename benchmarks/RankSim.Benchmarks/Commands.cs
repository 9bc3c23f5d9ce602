using System.ComponentModel;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Spectre.Console.Cli;

namespace RankSim.Benchmarks;

/// <summary>A batch shape: B, D and the kind of labels.</summary>
internal class ShapeSettings : CommandSettings
{
    [CommandOption("--batch <B>")]
    [Description("Batch size B")]
    [DefaultValue(256)]
    public int Batch { get; init; } = 256;

    [CommandOption("--dim <D>")]
    [Description("Feature dimension D")]
    [DefaultValue(2048)]
    public int Dim { get; init; } = 2048;

    [CommandOption("--continuous")]
    [Description("Continuous labels (every label distinct, M = B) instead of age-like ones (about 55 distinct per batch)")]
    public bool Continuous { get; init; }

    public BenchmarkCase Case => new(Batch, Dim, !Continuous);

    public override Spectre.Console.ValidationResult Validate() =>
        Batch >= 2 && Dim >= 1 ? Spectre.Console.ValidationResult.Success() : Spectre.Console.ValidationResult.Error("--batch must be at least 2 and --dim at least 1.");
}

/// <summary>A libtorch thread count.</summary>
internal class ThreadSettings : CommandSettings
{
    [CommandOption("--threads <N>")]
    [Description("libtorch CPU threads")]
    [DefaultValue(1)]
    public int Threads { get; init; } = 1;
}

/// <summary>BenchmarkDotNet's suites; arguments after -- go to BenchmarkDotNet (e.g. -- --filter '*Ranker*'); all cases without.</summary>
internal sealed class SuiteCommand : Command<SuiteCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--quick")]
        [Description("3 measured iterations per case instead of 15, without the B = 4096 cases (about 2.5 min)")]
        public bool Quick { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        // BenchmarkDotNet picks how many calls an iteration makes (about 0.5 s of work; one call for the slow loop cases).
        var job = Job.Default
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(45), logOutput: true))
            .WithWarmupCount(settings.Quick ? 1 : 3)
            .WithIterationCount(settings.Quick ? 3 : 15)
            .WithUnrollFactor(1);
        var config = DefaultConfig.Instance.AddJob(job.AsDefault()).AddColumn(StatisticColumn.Median).WithOptions(ConfigOptions.DisableOptimizationsValidator);
        Type[] types = settings.Quick
            ? [typeof(RankSimBenchmarks), typeof(RankerBenchmarks), typeof(OptionBenchmarks)]
            : [typeof(RankSimBenchmarks), typeof(LargeBatchBenchmarks), typeof(RankerBenchmarks), typeof(OptionBenchmarks)];
        string[] remaining = [.. context.Remaining.Raw];
        BenchmarkSwitcher.FromTypes(types).Run(remaining.Length > 0 ? remaining : ["--filter", "*"], config);
        return 0;
    }
}

internal sealed class FingerprintCommand : Command
{
    public override int Execute(CommandContext context, CancellationToken cancellationToken)
    {
        Console.WriteLine(Soak.Fingerprint());
        return 0;
    }
}

internal sealed class SoakCommand : Command<SoakCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--steps <N>")]
        [Description("Training steps (RankSim + LDS weights + FDS)")]
        [DefaultValue(21_000)]
        public int Steps { get; init; } = 21_000;

        [CommandOption("--every <N>")]
        [Description("Steps between two reports of resident memory and live tensors")]
        [DefaultValue(1000)]
        public int Every { get; init; } = 1000;

        [CommandOption("--assert-flat")]
        [Description("Exit 1 unless the live tensor count stays flat")]
        public bool AssertFlat { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        Soak.Run(settings.Steps, settings.Every, settings.AssertFlat) ? 0 : 1;
}

internal sealed class VersusLoopCommand : Command<ShapeSettings>
{
    public override int Execute(CommandContext context, ShapeSettings settings, CancellationToken cancellationToken)
    {
        var c = settings.Case;

        // Continuous labels keep every sample (M = B): a loop-baseline call at B = 1024 takes seconds, so fewer, shorter rounds.
        foreach (int threads in c.AgeLike ? new[] { 1, 2 } : new[] { 1 })
        {
            InterleavedRatio.Run(c, threads, rounds: c.AgeLike ? 7 : 5, callsPerRound: c.AgeLike ? 200 : 20);
        }

        return 0;
    }
}

internal sealed class FloorCommand : Command<ThreadSettings>
{
    public override int Execute(CommandContext context, ThreadSettings settings, CancellationToken cancellationToken)
    {
        foreach (var c in FloorRatio.Cases)
        {
            FloorRatio.Run(c, settings.Threads, rounds: 15, callsPerRound: c.BatchSize >= 1024 ? 10 : 100);
        }

        return 0;
    }
}

internal sealed class OperationCountCommand : Command<ThreadSettings>
{
    public override int Execute(CommandContext context, ThreadSettings settings, CancellationToken cancellationToken)
    {
        foreach (var c in FloorRatio.Cases)
        {
            OperationCount.Run(c, settings.Threads, rounds: 11, callsPerRound: c.BatchSize >= 1024 ? 5 : 50);
        }

        return 0;
    }
}

internal sealed class OperationCallsCommand : Command<OperationCallsCommand.Settings>
{
    public sealed class Settings : ShapeSettings
    {
        [CommandOption("--calls <N>")]
        [Description("Forward + backward calls to make, and nothing else (for an operator-call counter or a profiler)")]
        [DefaultValue(100)]
        public int Calls { get; init; } = 100;

        [CommandOption("--reference")]
        [Description("On the device-agnostic path (what CUDA runs) instead of the CPU kernels")]
        public bool Reference { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        OperationCount.Calls(settings.Reference, settings.Calls, settings.Batch, settings.Dim, !settings.Continuous);
        return 0;
    }
}

internal sealed class OverheadsCommand : Command
{
    public override int Execute(CommandContext context, CancellationToken cancellationToken)
    {
        TorchSharpOverheads.Run();
        return 0;
    }
}

internal sealed class OrdinalEntropyCommand : Command<ThreadSettings>
{
    public override int Execute(CommandContext context, ThreadSettings settings, CancellationToken cancellationToken)
    {
        foreach (var c in OrdinalEntropyCost.Cases)
        {
            OrdinalEntropyCost.Run(c, settings.Threads, rounds: 11, callsPerRound: c.BatchSize >= 1024 ? 10 : 100);
        }

        return 0;
    }
}

internal sealed class LossTimingCommand : Command<ShapeSettings>
{
    public override int Execute(CommandContext context, ShapeSettings settings, CancellationToken cancellationToken)
    {
        LossTiming.Run(settings.Case, rounds: 11, callsPerRound: settings.Batch >= 1024 ? 10 : 100);
        return 0;
    }
}

internal sealed class StepShareCommand : Command<StepShareCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--steps <N>")]
        [Description("Training steps of the QuickStart model")]
        [DefaultValue(300)]
        public int Steps { get; init; } = 300;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        StepShare.Run(settings.Steps);
        return 0;
    }
}

internal sealed class OptionsCommand : Command
{
    public override int Execute(CommandContext context, CancellationToken cancellationToken)
    {
        foreach (var c in OptionBenchmarks.Cases)
        {
            foreach (int threads in new[] { 1, 2 })
            {
                InterleavedOptions.Run(c, threads, rounds: 11, callsPerRound: c.BatchSize >= 1024 ? 5 : 40);
            }
        }

        return 0;
    }
}

internal sealed class ProductsCommand : Command<ProductsCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--rows <M>")]
        [Description("Rows M of the product n n^T")]
        [DefaultValue(55)]
        public int Rows { get; init; } = 55;

        [CommandOption("--dim <D>")]
        [Description("Feature dimension D")]
        [DefaultValue(2048)]
        public int Dim { get; init; } = 2048;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        ProductLayouts.Run(settings.Rows, settings.Dim, threads: 1);
        return 0;
    }
}

internal sealed class PhasesCommand : Command<PhasesCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--batch <B>")]
        [Description("Batch size (with --dim; default: B = 64 and 256 with D = 512 and 2048)")]
        public int? Batch { get; init; }

        [CommandOption("--dim <D>")]
        [Description("Feature dimension (with --batch)")]
        public int? Dim { get; init; }

        [CommandOption("--continuous")]
        [Description("Distinct continuous labels (every sample kept) instead of age-like ones")]
        public bool Continuous { get; init; }

        [CommandOption("--threads <N>")]
        [Description("libtorch CPU threads (default: 1, then 2)")]
        public int? Threads { get; init; }

        [CommandOption("--rounds <N>")]
        [Description("Interleaved rounds")]
        [DefaultValue(15)]
        public int Rounds { get; init; } = 15;

        [CommandOption("--calls <N>")]
        [Description("Calls of each phase per round")]
        [DefaultValue(200)]
        public int Calls { get; init; } = 200;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        bool ageLike = !settings.Continuous;
        BenchmarkCase[] cases = settings is { Batch: int b, Dim: int d }
            ? [new(b, d, ageLike)]
            : [new(64, 512, ageLike), new(64, 2048, ageLike), new(256, 512, ageLike), new(256, 2048, ageLike)];
        foreach (var c in cases)
        {
            foreach (int threads in settings.Threads is int t ? new[] { t } : new[] { 1, 2 })
            {
                PhaseProbe.Run(c, threads, settings.Rounds, settings.Calls);
            }
        }

        return 0;
    }
}

internal sealed class ScaleCommand : Command<ScaleCommand.Settings>
{
    public sealed class Settings : GrowthSettings
    {
        [CommandOption("--batch <B>")]
        [Description("Batch size")]
        [DefaultValue(8192)]
        public int Batch { get; init; } = 8192;

        [CommandOption("--reference")]
        [Description("On the device-agnostic path (what CUDA runs) instead of the CPU kernels")]
        public bool Reference { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        ScaleCheck.Run(settings.Batch, settings.Dim, settings.Repeats, settings.Threads, settings.Reference, settings.AgeLike);
        return 0;
    }
}

internal sealed class GrowthRatioCommand : Command<GrowthRatioCommand.Settings>
{
    public sealed class Settings : GrowthSettings
    {
        [CommandOption("--small <B>")]
        [Description("The smaller batch size")]
        [DefaultValue(1024)]
        public int Small { get; init; } = 1024;

        [CommandOption("--large <B>")]
        [Description("The larger batch size")]
        [DefaultValue(4096)]
        public int Large { get; init; } = 4096;

        [CommandOption("--reference")]
        [Description("On the device-agnostic path (what CUDA runs) instead of the CPU kernels")]
        public bool Reference { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        GrowthRatio.Run(settings.Small, settings.Large, settings.Dim, settings.Threads, settings.Repeats, settings.AgeLike, settings.Reference);
        return 0;
    }
}

internal sealed class BinCostCommand : Command<BinCostCommand.Settings>
{
    public sealed class Settings : GrowthSettings
    {
        [CommandOption("--batch <B>")]
        [Description("Batch size")]
        [DefaultValue(4096)]
        public int Batch { get; init; } = 4096;

        [CommandOption("--bin-width <W>")]
        [Description("The label bin width (labels are uniform in [0, 100))")]
        [DefaultValue(1.0)]
        public double BinWidth { get; init; } = 1.0;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        BinCost.Run(settings.Batch, settings.Dim, settings.Threads, settings.Repeats, settings.BinWidth);
        return 0;
    }
}

/// <summary>What one large-batch measurement takes: D, threads, calls, the kind of labels.</summary>
internal class GrowthSettings : CommandSettings
{
    [CommandOption("--dim <D>")]
    [Description("Feature dimension")]
    [DefaultValue(512)]
    public int Dim { get; init; } = 512;

    [CommandOption("--threads <N>")]
    [Description("libtorch CPU threads")]
    [DefaultValue(1)]
    public int Threads { get; init; } = 1;

    [CommandOption("--repeats <N>")]
    [Description("Forward + backward calls per batch size (the median is reported)")]
    [DefaultValue(3)]
    public int Repeats { get; init; } = 3;

    [CommandOption("--age-like")]
    [Description("Age-like labels (about 55 distinct per batch) instead of continuous ones")]
    public bool AgeLike { get; init; }
}

internal sealed class GrowthCommand : Command<GrowthCommand.Settings>
{
    public sealed class Settings : GrowthSettings
    {
        [CommandOption("--batches <LIST>")]
        [Description("Comma-separated batch sizes")]
        [DefaultValue("256,512,1024,2048,4096,8192")]
        public string Batches { get; init; } = "256,512,1024,2048,4096,8192";

        [CommandOption("--out <FILE>")]
        [Description("The plot (PNG) of time per call against B, both paths; a CSV of the table beside it")]
        [DefaultValue("growth.png")]
        public string Output { get; init; } = "growth.png";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var batches = settings.Batches.Split(',').Select(int.Parse).ToArray();
        var rows = Growth.Measure(batches, settings.Dim, settings.Threads, settings.Repeats, settings.AgeLike);
        Growth.Report(rows, settings.Output, settings.Dim, settings.AgeLike);
        return 0;
    }
}
