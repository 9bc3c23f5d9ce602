namespace RankSim.Tests.Cpu;

/// <summary>
/// <see cref="RowBlocks"/>, which shares the rows of the CPU kernels over libtorch's OpenMP team
/// (<see cref="OpenMpTeam"/>) or, where libtorch has none, the .NET thread pool.
/// </summary>
public class RowBlocksTests
{
    /// <summary>Rows x elements at and above this run on more than one thread (RowBlocks.ParallelThreshold).</summary>
    private const int ParallelRows = 1024;

    [Fact]
    public void LibtorchsOpenMpTeamIsFoundOnLinux()
    {
        // The libtorch-cpu-linux-x64 build the tests run on uses GNU libgomp; without it the kernels fall back to the
        // thread pool, correct but slower, and this would go unnoticed.
        OpenMpTeam.IsAvailable.Should().Be(OperatingSystem.IsLinux());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EveryRowIsCoveredExactlyOnce(bool onOpenMpTeam)
    {
        var visits = new int[ParallelRows];
        RowBlocks.Run(ParallelRows, ParallelRows, ParallelRows * sizeof(float), (start, count) =>
        {
            for (long row = start; row < start + count; row++)
            {
                Interlocked.Increment(ref visits[row]);
            }
        }, onOpenMpTeam && OpenMpTeam.IsAvailable);

        visits.Should().OnlyContain(v => v == 1);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AnExceptionInABlockReachesTheCaller(bool onOpenMpTeam)
    {
        var act = () => RowBlocks.Run(ParallelRows, ParallelRows, ParallelRows * sizeof(float), (start, count) =>
        {
            if (start <= 700 && 700 < start + count)
            {
                throw new InvalidOperationException("block failed");
            }
        }, onOpenMpTeam && OpenMpTeam.IsAvailable);

        act.Should().Throw<InvalidOperationException>().WithMessage("block failed");
    }

    [Fact]
    public void ARunInsideABlockCompletes()
    {
        long total = 0;
        RowBlocks.Run(ParallelRows, ParallelRows, ParallelRows * sizeof(float), (start, count) =>
        {
            long inner = 0;
            RowBlocks.Run(ParallelRows, ParallelRows, ParallelRows * sizeof(float), (innerStart, innerCount) => Interlocked.Add(ref inner, innerCount));
            inner.Should().Be(ParallelRows);
            Interlocked.Add(ref total, count);
        });

        total.Should().Be(ParallelRows);
    }
}
