using System.Text.Json;
using RankSim.Tests.Fixtures;

namespace RankSim.Tests.Dir.Imbalance;

public class KernelWindowTests
{
    public static TheoryData<int> KernelCases()
    {
        var data = new TheoryData<int>();
        int count = Golden.Load("lds_reference.json").GetProperty("kernels").GetArrayLength();
        for (int i = 0; i < count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(KernelCases))]
    public void WindowsMatchTheScipyReference(int index)
    {
        JsonElement c = Golden.Load("lds_reference.json").GetProperty("kernels")[index];
        var shape = c.GetProperty("kernel").GetString() switch
        {
            "gaussian" => KernelShape.Gaussian,
            "triang" => KernelShape.Triangular,
            _ => KernelShape.Laplace,
        };
        var sigma = c.GetProperty("sigma").ValueKind == JsonValueKind.Null ? 1.0 : c.GetProperty("sigma").GetDouble();
        var kernel = new KernelWindow(shape, c.GetProperty("size").GetInt32(), sigma);

        kernel.MaxNormalized().Should().Equal(c.Doubles("lds_window_max_normalised"), (a, e) => Math.Abs(a - e) <= 1e-12);
        kernel.SumNormalized().Should().Equal(c.Doubles("fds_window_sum_normalised"), (a, e) => Math.Abs(a - e) <= 1e-12);
    }

    [Fact]
    public void DefaultsAreTheDirPapersGaussianOfSizeFiveAndWidthTwo()
    {
        var kernel = new KernelWindow();
        kernel.Shape.Should().Be(KernelShape.Gaussian);
        kernel.Size.Should().Be(5);
        kernel.Sigma.Should().Be(2.0);
        kernel.SumNormalized().Sum().Should().BeApproximately(1.0, 1e-15);
        kernel.MaxNormalized().Max().Should().Be(1.0);
    }

    [Theory]
    [InlineData(4, 2.0)]
    [InlineData(0, 2.0)]
    [InlineData(-3, 2.0)]
    public void EvenOrNonPositiveSizesAreRejected(int size, double sigma) =>
        FluentActions.Invoking(() => new KernelWindow(KernelShape.Gaussian, size, sigma)).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("size");

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void NonPositiveSigmaIsRejected(double sigma) =>
        FluentActions.Invoking(() => new KernelWindow(KernelShape.Laplace, 5, sigma)).Should()
            .Throw<ArgumentOutOfRangeException>().WithParameterName("sigma");

    [Fact]
    public void UnknownShapesAreRejected() =>
        FluentActions.Invoking(() => new KernelWindow((KernelShape)9)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("shape");

    [Theory]
    [InlineData(KernelShape.Gaussian, 5, 1e-3)]
    [InlineData(KernelShape.Gaussian, 9, 1e-300)]
    [InlineData(KernelShape.Laplace, 5, 1e-3)]
    [InlineData(KernelShape.Laplace, 5, 1e-300)]
    [InlineData(KernelShape.Gaussian, 5, 1e6)]
    [InlineData(KernelShape.Laplace, 5, 1e300)]
    public void DegenerateSigmasAreRejectedAtConstruction(KernelShape shape, int size, double sigma) =>
        FluentActions.Invoking(() => new KernelWindow(shape, size, sigma)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("sigma");

    public static TheoryData<KernelShape, int, double> ExtremeButValidWindows => new()
    {
        { KernelShape.Gaussian, 1, 1e-3 },
        { KernelShape.Gaussian, KernelWindow.MaxSize, KernelWindow.MaxSigma },
        { KernelShape.Laplace, KernelWindow.MaxSize, KernelWindow.MaxSigma },
        { KernelShape.Gaussian, 3, 0.2 },
    };

    [Theory]
    [MemberData(nameof(ExtremeButValidWindows))]
    public void ExtremeButValidWindowsAreFiniteWithPeakOne(KernelShape shape, int size, double sigma)
    {
        var window = new KernelWindow(shape, size, sigma);
        var lds = window.MaxNormalized();
        lds.Should().HaveCount(size).And.OnlyContain(v => double.IsFinite(v) && v >= 0 && v <= 1);
        lds.Max().Should().Be(1.0);
        window.SumNormalized().Sum().Should().BeApproximately(1.0, 1e-9);
    }
}
