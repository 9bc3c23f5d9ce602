using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using RankSim.Benchmarks;

// Usage:
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- [--quick] [BenchmarkDotNet options, e.g. --filter *Ranker*]
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --scale [B] [D]
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --soak [steps] [every] [--assert-flat]
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --fingerprint
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --interleaved [B D] [cont]   (speed-up over the loop, round by round; age-like labels unless cont)
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --phases [B D]   (per-phase times at the age-like shapes)
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --quick --filter *OptionBenchmarks*   (the options against the paper's)
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --options   (the same, interleaved round by round, 1 and 2 threads)
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --step-share [steps]   (RankSim's share of the QuickStart training step)
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --loss-timing B D age|cont   (forward + backward alone, median per call)
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --op-count [threads]   (tensor handles per call on both paths, and their times)
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --op-calls [reference] N [B D] [cont]   (N calls and nothing else, for an operator-call counter or a profiler)
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --overheads   (TorchSharp's cost of a size read and of a custom autograd function)
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --floor [threads]   (against the arithmetic-and-allocation floor, interleaved)
//   dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --ordinal-entropy [threads]   (OrdinalEntropyLoss beside RankSimLoss, interleaved)
// In process (libtorch is loaded once). --quick takes 3 measured iterations per case instead of 15 and leaves out
// LargeBatchBenchmarks (B = 4096, where the loop baseline takes minutes per call); it finishes in about 2.5 minutes.
if (args.Contains("--fingerprint"))
{
    Console.WriteLine(Soak.Fingerprint());
    return 0;
}

if (args.Contains("--soak"))
{
    var counts = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray();
    return Soak.Run(counts.ElementAtOrDefault(0) is > 0 and var steps ? steps : 21_000, counts.ElementAtOrDefault(1) is > 0 and var every ? every : 1000, args.Contains("--assert-flat")) ? 0 : 1;
}

if (args.Contains("--interleaved"))
{
    var shape = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray();
    var c = new RankSim.Benchmarks.BenchmarkCase(shape.ElementAtOrDefault(0) is > 0 and var b ? b : 256, shape.ElementAtOrDefault(1) is > 0 and var d ? d : 2048, !args.Contains("cont"));
    // Continuous labels keep every sample (M = B): a loop-baseline call at B = 1024 takes seconds, so fewer, shorter rounds.
    foreach (int threads in c.AgeLike ? new[] { 1, 2 } : new[] { 1 })
    {
        InterleavedRatio.Run(c, threads, rounds: c.AgeLike ? 7 : 5, callsPerRound: c.AgeLike ? 200 : 20);
    }

    return 0;
}

if (args.Contains("--floor"))
{
    int threads = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).FirstOrDefault(1);
    foreach (var c in FloorRatio.Cases)
    {
        FloorRatio.Run(c, threads, rounds: 15, callsPerRound: c.BatchSize >= 1024 ? 10 : 100);
    }

    return 0;
}

if (args.Contains("--op-calls"))
{
    var numbers = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray();
    OperationCount.Calls(
        args.Contains("reference"), numbers.ElementAtOrDefault(0) is > 0 and var calls ? calls : 100,
        numbers.ElementAtOrDefault(1) is > 0 and var b ? b : 256, numbers.ElementAtOrDefault(2) is > 0 and var d ? d : 2048, !args.Contains("cont"));
    return 0;
}

if (args.Contains("--op-count"))
{
    int threads = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).FirstOrDefault(1);
    foreach (var c in FloorRatio.Cases)
    {
        OperationCount.Run(c, threads, rounds: 11, callsPerRound: c.BatchSize >= 1024 ? 5 : 50);
    }

    return 0;
}

if (args.Contains("--overheads"))
{
    TorchSharpOverheads.Run();
    return 0;
}

if (args.Contains("--ordinal-entropy"))
{
    int threads = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).FirstOrDefault(1);
    foreach (var c in OrdinalEntropyCost.Cases)
    {
        OrdinalEntropyCost.Run(c, threads, rounds: 11, callsPerRound: c.BatchSize >= 1024 ? 10 : 100);
    }

    return 0;
}

if (args.Contains("--loss-timing"))
{
    var shape = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray();
    var c = new RankSim.Benchmarks.BenchmarkCase(shape.ElementAtOrDefault(0) is > 0 and var b ? b : 256, shape.ElementAtOrDefault(1) is > 0 and var d ? d : 2048, !args.Contains("cont"));
    LossTiming.Run(c, rounds: 11, callsPerRound: c.BatchSize >= 1024 ? 10 : 100);
    return 0;
}

if (args.Contains("--step-share"))
{
    var counts = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray();
    StepShare.Run(counts.ElementAtOrDefault(0) is > 0 and var steps ? steps : 300);
    return 0;
}

if (args.Contains("--options"))
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

if (args.Contains("--products"))
{
    var shape = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray();
    RankSim.Benchmarks.ProductLayouts.Run(shape.ElementAtOrDefault(0) is > 0 and var m ? m : 55, shape.ElementAtOrDefault(1) is > 0 and var d ? d : 2048, threads: 1);
    return 0;
}

if (args.Contains("--phases"))
{
    var shape = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray();
    RankSim.Benchmarks.BenchmarkCase[] cases = shape.Length == 2
        ? [new(shape[0], shape[1], true)]
        : [new(64, 512, true), new(64, 2048, true), new(256, 512, true), new(256, 2048, true)];
    foreach (var c in cases)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            PhaseProbe.Run(c, threads, rounds: 15, callsPerRound: 200);
        }
    }

    return 0;
}

if (args.Contains("--scale"))
{
    var numbers = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray();
    ScaleCheck.Run(numbers.ElementAtOrDefault(0) is > 0 and var b ? b : 8192, numbers.ElementAtOrDefault(1) is > 0 and var d ? d : 512, repeats: 5);
    return 0;
}

bool quick = args.Contains("--quick");
// BenchmarkDotNet picks how many calls each iteration makes (about 0.5 s of work; one call for the slow loop cases), so
// millisecond cases are timed over many back-to-back calls, as a training loop makes them.
var job = Job.Default
    .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(45), logOutput: true))
    .WithWarmupCount(quick ? 1 : 3)
    .WithIterationCount(quick ? 3 : 15)
    .WithUnrollFactor(1);
var config = DefaultConfig.Instance.AddJob(job.AsDefault()).AddColumn(StatisticColumn.Median).WithOptions(ConfigOptions.DisableOptimizationsValidator);
Type[] types = quick
    ? [typeof(RankSimBenchmarks), typeof(RankerBenchmarks), typeof(OptionBenchmarks)]
    : [typeof(RankSimBenchmarks), typeof(LargeBatchBenchmarks), typeof(RankerBenchmarks), typeof(OptionBenchmarks)];
BenchmarkSwitcher.FromTypes(types)
    .Run(args.Where(a => a != "--quick").ToArray(), config);
return 0;
