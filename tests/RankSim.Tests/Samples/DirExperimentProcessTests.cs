using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace RankSim.Tests.Samples;

/// <summary>
/// Runs the built DirExperiment sample as a user would, with bad data and bad options: each mistake must end in one
/// line on stderr that says what is wrong and where, a non-zero exit code (2 for the command line, 1 for data and
/// output), no stack trace, and no results folder left behind. Before this test, every data case below ended in an
/// unhandled exception and left an empty results/&lt;timestamp&gt; folder.
/// </summary>
public sealed class DirExperimentProcessTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("ranksim-dir-errors-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    public static TheoryData<string, string, string[]> DataErrors => new()
    {
        // file name, contents ("" = empty file; null-like cases are handled below), expected fragments of the message
        { "missing.csv", "<none>", ["missing.csv", "no such file"] },
        { "empty.csv", "", ["empty.csv", "empty file", "header"] },
        { "header.csv", "a,b,y\n", ["header.csv", "no data rows"] },
        { "one.csv", "a,b,y\n1,2,3\n", ["one.csv", "1 data rows", "0 for validation"] },
        { "six.csv", "a,y\n1,1\n2,1\n3,1\n4,1\n5,1\n6,1\n", ["method SQINV+LDS+FDS", "FDS needs more than 2 bins"] },
        { "nocolumn.csv", "a,b,z\n1,2,3\n", ["nocolumn.csv, line 1", "no column 'y'", "a, b, z"] },
        { "onlylabel.csv", "y\n1\n2\n", ["onlylabel.csv", "only the label column"] },
        { "text.csv", "a,y\n1,2\n1,x\n", ["text.csv, line 3, column 2 ('y')", "'x' is not a number"] },
        { "emptycell.csv", "a,y\n1,2\n,2\n", ["emptycell.csv, line 3, column 1 ('a')", "empty cell"] },
        { "nan.csv", "a,y\nNaN,2\n", ["nan.csv, line 2, column 1 ('a')", "not a finite number"] },
        { "float32.csv", "a,y\n1,2\n1e39,2\n", ["float32.csv, line 3, column 1 ('a')", "beyond float32's range"] },
        { "ragged.csv", "a,y\n1,2,3\n", ["ragged.csv, line 2", "3 cells", "2 columns"] },
        { "decimalcomma.csv", "a;y\n1,5;2\n", ["decimalcomma.csv, line 2, column 1 ('a')", "decimal commas", "decimal points"] },
        { "span.csv", "a,y\n1,0\n2,2500000\n3,5000000\n4,7500000\n5,10000000\n", ["span.csv, column 'y'", "10,000,001 integer bins", "rescale"] },
    };

    [Theory]
    [MemberData(nameof(DataErrors))]
    public void DataMistakesEndInOneLineWithTheirPlaceAndNoResultsFolder(string file, string contents, string[] fragments)
    {
        string path = Path.Combine(folder, file);
        if (contents != "<none>")
        {
            File.WriteAllText(path, contents);
        }

        var run = Run("--dataset", "csv", "--data", path, "--label", "y", "--quick", "--seeds", "1", "--out", Output);
        run.ShouldBeOneLineError(exitCode: 1, fragments);
        Directory.Exists(Output).Should().BeFalse("a failed run must not leave a results folder");
    }

    public static TheoryData<string[], string[]> OptionErrors => new()
    {
        { ["--lambda", "1e31"], ["--lambda", "at most 1E+30"] },
        { ["--lambda", "-1"], ["--lambda", "greater than 0"] },
        { ["--methods", ","], ["--methods", "no method"] },
        { ["--methods", "Vanilla,Magic"], ["--methods", "magic"] },
        { ["--seeds", "abc"], ["--seeds", "'abc' is not a whole number"] },
        { ["--epochs"], ["--epochs needs a value"] },
        { ["--batch-size", "1"], ["--batch-size", "at least 2"] },
        { ["--gamma", "NaN"], ["--gamma", "finite positive"] },
        { ["--bogus"], ["Unknown option", "bogus"] },
        { ["--dataset", "csv"], ["--dataset csv needs --data FILE and --label COLUMN"] },
        { ["--dataset", "imagenet"], ["unknown dataset 'imagenet'"] },
        { ["--device", "tpu"], ["--device must be cpu or cuda"] },
        { ["--perturbation", "bogus"], ["--perturbation", "not a valid value"] },
        { ["--soft-regularization", "0"], ["--soft-regularization", "[1E-30, 1E+30]"] },
        { ["--ranking", "Fuzzy"], ["--ranking", "not a valid value"] },
        { ["--similarity", "Euclid"], ["--similarity", "not a valid value"] },
        { ["--schedule", "Step"], ["--schedule", "not a valid value"] },
        { ["--first-seed", "-1"], ["--first-seed", "from 0 to 1000000"] },
        { ["--oe-weight", "0"], ["--oe-weight", "(0, 1e6]"] },
        { ["--threads", "0"], ["--threads", "from 1 to 1024"] },
        { ["--study-settings", "imagenet"], ["--study-settings", "diamonds,synthetic,randhie,agedb-like"] },
    };

    [Theory]
    [MemberData(nameof(OptionErrors))]
    public void OptionMistakesEndInOneLineAndExitCodeTwo(string[] args, string[] fragments)
    {
        Run([.. args, "--out", Output]).ShouldBeOneLineError(exitCode: 2, fragments);
        Directory.Exists(Output).Should().BeFalse();
    }

    [Fact]
    public void HelpPrintsEveryOptionWithItsDescription()
    {
        // The options as the settings class declares them, so that a new option is checked too.
        string assembly = typeof(DirExperimentProcessTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "DirExperimentAssembly").Value!;
        string settings = Path.Combine(Path.GetDirectoryName(assembly)!, "..", "..", "..", "ExperimentSettings.cs");
        var options = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(settings), @"CommandOption\(""(--[a-z-]+)")
            .Select(m => m.Groups[1].Value).ToList();
        options.Should().HaveCountGreaterThan(20);

        var help = Run("--help");
        help.ExitCode.Should().Be(0, help.Stderr);
        help.Stderr.Should().BeEmpty();
        help.Stdout.Should().Contain("USAGE").And.Contain("OPTIONS").And.Contain("[1e-30, 1e30]");
        foreach (string option in options)
        {
            help.Stdout.Should().Contain(option);
        }
    }

    [Fact]
    public void ARedirectedRunPrintsEachRunWithItsPlaceInTheSeries()
    {
        var run = Run("--quick", "--seeds", "1", "--epochs", "1", "--methods", "Vanilla,RankSim", "--threads", "1", "--out", Output);
        run.ExitCode.Should().Be(0, run.Stderr);
        run.Stdout.Should().Contain("DirExperiment: diamonds").And.Contain("[1/2] Vanilla (seed 0): test MAE").And.Contain("[2/2] RankSim (seed 0): test MAE");
    }

    [Fact]
    public void OutputOntoAFileOrUnderProcIsRefusedBeforeTraining()
    {
        string file = Path.Combine(folder, "taken");
        File.WriteAllText(file, "keep me");
        Run("--quick", "--out", file).ShouldBeOneLineError(exitCode: 2, ["--out", "is a file"]);
        File.ReadAllText(file).Should().Be("keep me");

        Run("--quick", "--out", "/proc/ranksim-results").ShouldBeOneLineError(exitCode: 1, ["--out /proc/ranksim-results", "cannot write results there"]);
        Directory.Exists("/proc/ranksim-results").Should().BeFalse();
    }

    [Fact]
    public void AQuotedSemicolonFileWithAByteOrderMarkSimplyWorks()
    {
        // Quoted header and cells, a column name with a space, ';' separators, decimal points, a UTF-8 BOM.
        var text = new StringBuilder("\"a\";\"b c\";\"y\"\n");
        for (int i = 1; i <= 40; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i % 7}.5;\"{i * 3 % 11}\";{i % 4}\n");
        }

        string path = Path.Combine(folder, "quoted.csv");
        File.WriteAllText(path, text.ToString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        File.ReadAllBytes(path)[..3].Should().Equal(0xEF, 0xBB, 0xBF);

        var run = Run("--dataset", "csv", "--data", path, "--label", "y", "--quick", "--seeds", "1", "--methods", "Vanilla,RankSim", "--out", Output);
        run.ExitCode.Should().Be(0, run.Stderr);
        run.Stderr.Should().BeEmpty();
        run.Stdout.Should().Contain("train 24, val 8, test 8");
        var results = Directory.GetDirectories(Output).Should().ContainSingle().Subject;
        File.Exists(Path.Combine(results, "results.json")).Should().BeTrue();
        File.ReadAllLines(Path.Combine(results, "results.csv")).Should().HaveCount(1 + 2 * 4, "a header and four groups for each of two methods");
    }

    [Fact]
    public void OrdinalEntropyRunsAsAMethodAndIsComparedWithItsBaseline()
    {
        var run = Run("--dataset", "synthetic", "--quick", "--seeds", "2", "--methods", "OE,SQINV+RankSim+OE", "--oe-weight", "0.5", "--out", Output);
        run.ExitCode.Should().Be(0, run.Stderr);
        var results = Directory.GetDirectories(Output).Should().ContainSingle().Subject;
        var rows = File.ReadAllLines(Path.Combine(results, "results.csv"));
        foreach (string method in new[] { "Vanilla", "OE", "SQINV", "SQINV+RankSim+OE" })
        {
            rows.Should().Contain(r => r.StartsWith(method + ",", StringComparison.Ordinal), $"{method} runs (a regularized method brings its baseline)");
        }

        run.Stdout.Should().Contain("OE").And.Contain("SQINV+RankSim+OE");
    }

    [Fact]
    public void TheStudyResumesFromItsRunsAndRunsNothingTwice()
    {
        string study = Path.Combine(folder, "study");
        string[] args = ["--study", "--quick", "--epochs", "2", "--study-settings", "randhie", "--threads", "1", "--study-dir", study];
        var first = Run(args);
        first.ExitCode.Should().Be(0, first.Stderr);
        string runs = Path.Combine(study, "runs-randhie.jsonl");

        // Quick: the sweep (1 seed x 5 values x 2 baselines), the comparison (2 seeds x 2 baselines x 5) and the replication (2 seeds x 2).
        var lines = File.ReadAllLines(runs);
        lines.Should().HaveCount(10 + 20 + 4);
        File.ReadAllText(Path.Combine(study, "study.md")).Should().Contain("## Comparison").And.Contain("## Replication").And.Contain("RAND HIE");

        // Half the comparison lost: only those runs are run again, with the same results (paired seeds are deterministic).
        File.WriteAllLines(runs, lines.Take(20));
        var second = Run(args);
        second.ExitCode.Should().Be(0, second.Stderr);
        var again = File.ReadAllLines(runs);
        again.Should().HaveCount(lines.Length);
        second.Stdout.Split('\n').Count(l => l.Contains("test MAE", StringComparison.Ordinal)).Should().Be(lines.Length - 20);
        static string WithoutTime(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"Seconds\":[^,]*,", "");
        again.Select(WithoutTime).Order().Should().Equal(lines.Select(WithoutTime).Order(), "a rerun of a lost run gives the same result");

        // A process killed while appending: the last record complete but without its newline, or cut off mid-record. The
        // resume ends the line before appending, drops the cut-off record (its run runs again), and loses nothing.
        File.WriteAllText(runs, string.Join('\n', lines.Take(33)));
        Run(args).ExitCode.Should().Be(0);
        File.ReadAllLines(runs).Should().HaveCount(34);
        File.WriteAllText(runs, string.Join('\n', lines.Take(33)) + "\n" + lines[33][..(lines[33].Length / 2)]);
        var cut = Run(args);
        cut.ExitCode.Should().Be(0, cut.Stderr);
        cut.Stdout.Should().Contain("runs-randhie.jsonl, line 34: an incomplete last record");
        File.ReadAllLines(runs).Select(WithoutTime).Order().Should().Equal(lines.Select(WithoutTime).Order());
        Run(args).Stdout.Should().NotContain("test MAE", "every run is recorded");

        // A damaged line elsewhere is refused by file and line, and the file is left as it is.
        File.WriteAllLines(runs, [.. lines.Take(5), "null", .. lines.Skip(5)]);
        Run(args).ShouldBeOneLineError(exitCode: 1, ["runs-randhie.jsonl, line 6", "not a run record"]);
        File.WriteAllLines(runs, [.. lines.Take(5), "{\"Phase\": 1", .. lines.Skip(5)]);
        Run(args).ShouldBeOneLineError(exitCode: 1, ["runs-randhie.jsonl, line 6", "not a run record"]);
        File.ReadAllLines(runs).Should().HaveCount(lines.Length + 1);

        // A study folder that cannot be written.
        Run([.. args[..^1], "/proc/ranksim-study"]).ShouldBeOneLineError(exitCode: 1, ["--study-dir /proc/ranksim-study", "cannot write"]);
    }

    private string Output => Path.Combine(folder, "results");

    private static Result Run(params string[] args)
    {
        string assembly = typeof(DirExperimentProcessTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "DirExperimentAssembly").Value!;
        File.Exists(assembly).Should().BeTrue($"the sample is built with the tests ({assembly})");
        string host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(assembly);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return new Result(process.ExitCode, stdout, stderr.Result);
    }

    private sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public void ShouldBeOneLineError(int exitCode, string[] fragments)
        {
            ExitCode.Should().Be(exitCode, $"stdout:\n{Stdout}\nstderr:\n{Stderr}");
            var lines = Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            lines[0].Should().StartWith("error: ");
            foreach (string fragment in fragments)
            {
                lines[0].Should().ContainEquivalentOf(fragment);
            }

            // The error line, then for command-line mistakes the pointer to --help; never a stack trace.
            lines.Skip(1).Should().BeEquivalentTo(exitCode == 2 ? ["Run with --help for the options."] : Array.Empty<string>());
            (Stdout + Stderr).Should().NotContain("   at ");
        }
    }
}
