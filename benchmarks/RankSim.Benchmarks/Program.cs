// The benchmark program: BenchmarkDotNet suites and the interleaved modes that time contenders round by round in one
// process (libtorch loads once). `dotnet run -c Release --project benchmarks/RankSim.Benchmarks -- --help` lists them.
using RankSim.Benchmarks;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("RankSim.Benchmarks");
    config.Settings.StrictParsing = true;
    config.AddCommand<SuiteCommand>("suite").WithDescription("BenchmarkDotNet: RankSimLoss against the loop baseline and the floor, the ranker, the options; arguments after -- go to BenchmarkDotNet").WithExample("suite", "--quick", "--", "--filter", "*Ranker*");
    config.AddCommand<VersusLoopCommand>("versus-loop").WithDescription("Speed-up over a port of the reference's loop, interleaved round by round (1 and 2 threads)");
    config.AddCommand<FloorCommand>("floor").WithDescription("Against the arithmetic-and-allocation floor of libtorch's primitives, interleaved");
    config.AddCommand<LossTimingCommand>("loss-timing").WithDescription("Forward + backward alone, median per call");
    config.AddCommand<PhasesCommand>("phases").WithDescription("Time per phase of a call (checks, sampling, ranks, objective, autograd)");
    config.AddCommand<OperationCountCommand>("op-count").WithDescription("Tensor handles per call on both paths, and their times");
    config.AddCommand<OperationCallsCommand>("op-calls").WithDescription("N calls and nothing else, for an operator-call counter or a profiler");
    config.AddCommand<OverheadsCommand>("overheads").WithDescription("TorchSharp's cost of a size read and of a custom autograd function");
    config.AddCommand<OptionsCommand>("options").WithDescription("The options beyond the paper against the paper's configuration, interleaved");
    config.AddCommand<OrdinalEntropyCommand>("ordinal-entropy").WithDescription("OrdinalEntropyLoss beside RankSimLoss, interleaved");
    config.AddCommand<ProductsCommand>("products").WithDescription("The forward product's operand layouts in MKL");
    config.AddCommand<StepShareCommand>("step-share").WithDescription("RankSim's share of the QuickStart training step");
    config.AddCommand<ScaleCommand>("scale").WithDescription("One large batch: time and peak memory");
    config.AddCommand<GrowthRatioCommand>("growth-ratio").WithDescription("A large batch against a small one (default 4096 and 1024), interleaved rounds in one process: the time ratio");
    config.AddCommand<BinCostCommand>("bins").WithDescription("One sample per label bin against one per distinct label, continuous labels: interleaved rounds");
    config.AddCommand<GrowthCommand>("growth").WithDescription("Time and peak memory from B = 256 to 8192, both paths, one process a batch size; a plot");
    config.AddCommand<SoakCommand>("soak").WithDescription("Memory and live tensors over a long training run").WithExample("soak", "--steps", "1000", "--every", "250", "--assert-flat");
    config.AddCommand<FingerprintCommand>("fingerprint").WithDescription("A hash of one loss and gradient (equal across processes: determinism)");
});
return app.Run(args);
