using System.Diagnostics;

namespace RankSim.Tests.Scenarios;

/// <summary>
/// Runs each scenario of <see cref="ScenarioProgram"/> in a child process and checks that it ended normally with the
/// expected outcome. Before the fixes, the first four aborted the process inside autograd's backward (exit 134) and the
/// OpenMP one could load a second libtorch.
/// </summary>
[Collection(SerialCollection.Name)]
public class ChildProcessScenarioTests
{
    [Theory]
    [InlineData("many-distinct-labels")]
    [InlineData("inplace-scores")]
    [InlineData("inplace-float64-dot-features")]
    [InlineData("sparse-upstream")]
    [InlineData("second-backward")]
    [InlineData("openmp-before-libtorch")]
    [InlineData("failing-backward")]
    public void ScenarioEndsNormallyWithTheRightOutcome(string scenario)
    {
        var (exitCode, output) = Run(scenario);
        exitCode.Should().Be(0, $"the scenario must neither abort (134) nor crash (139) nor throw; output:\n{output}");
        output.Should().StartWith("OK", output);
    }

    [Fact]
    public void TheAppContextSwitchRunsTheReferencePathWithTheSameResult()
    {
        var (exitCode, output) = Run("kernels-switched-off");
        exitCode.Should().Be(0, output);
        output.Should().StartWith("OK kernels off");

        // The same computation in this process with the kernels gives the same loss: the ranks are identical on both
        // paths, the float32 sums of squared rank differences are accumulated in a different order (kernel: float64).
        using var scope = NewDisposeScope();
        var features = randn(64, 8, generator: new Generator(9)).requires_grad_();
        var labels = randint(0, 20, [64], generator: new Generator(10)).to(ScalarType.Float32);
        float value = new RankSimLoss(generator: new Generator(11)).call(features, labels).item<float>();
        float reference = float.Parse(output.Split("loss ")[1].Split(';')[0], System.Globalization.CultureInfo.InvariantCulture);
        reference.Should().BeApproximately(value, 1e-6f * Math.Abs(value));
    }

    private static (int ExitCode, string Output) Run(string scenario)
    {
        string assembly = typeof(ScenarioProgram).Assembly.Location;
        string host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add(scenario);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, (stdout + stderr.Result).Trim());
    }
}
