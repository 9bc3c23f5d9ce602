namespace RankSim.Tests;

/// <summary>
/// Base of the test classes that run twice: with the CPU kernels (the default on the CPU) and on the device-agnostic
/// tensor path, which is what CUDA runs (forced for the test's flow of execution, as the AppContext switch
/// <c>RankSim.DisableCpuKernels</c> forces it for a process). Each such class is abstract, with one sealed subclass per path.
/// </summary>
public abstract class BothPaths : IDisposable
{
    private readonly IDisposable _path;

    protected BothPaths(bool referencePath)
    {
        ReferencePath = referencePath;
        _path = CpuKernels.UseReferencePath(referencePath);
    }

    /// <summary>Whether this run forces the device-agnostic tensor path.</summary>
    protected bool ReferencePath { get; }

    [Fact]
    public void TheRequestedPathIsInEffect() => CpuKernels.Enabled.Should().Be(!ReferencePath);

    public void Dispose()
    {
        _path.Dispose();
        GC.SuppressFinalize(this);
    }
}
