namespace RankSim.Tests.Cpu;

public class FiniteScanTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(40)]
    [InlineData(959)]
    [InlineData(960)]
    [InlineData(1000)]
    [InlineData(4100)]
    [InlineData(16399)]
    public void FindsANonFiniteValueAnywhereInFloat32AndFloat64(int position)
    {
        foreach (var type in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
            {
                using var values = randn(Math.Max(1001, position + 2), dtype: type);
                FiniteScan.AllFinite(values).Should().BeTrue();
                values[position] = bad;
                FiniteScan.AllFinite(values).Should().BeFalse($"{type} {bad} at {position}");
            }
        }
    }

    [Fact]
    public void ExtremeFiniteValuesAreFinite()
    {
        FiniteScan.AllFinite(tensor(new[] { float.MaxValue, float.MinValue, float.Epsilon, -0f })).Should().BeTrue();
        FiniteScan.AllFinite(tensor(new[] { double.MaxValue, double.MinValue, double.Epsilon })).Should().BeTrue();
    }

    [Fact]
    public void TensorsItCannotReadInPlaceAreLeftToTheLibtorchCheck()
    {
        using var values = randn(6, 4);
        values[5, 0] = float.NaN;
        using var transposed = values.t();
        FiniteScan.Takes(transposed).Should().BeFalse();
        FiniteScan.Takes(values.to(ScalarType.Float16)).Should().BeFalse();
        var act = () => InputValidation.RequireFinite(transposed, "features");
        act.Should().Throw<ArgumentException>().WithParameterName("features");
        var half = () => InputValidation.RequireFinite(values.to(ScalarType.BFloat16), "features");
        half.Should().Throw<ArgumentException>().WithParameterName("features");
    }

    [Theory]
    [InlineData(ScalarType.Float32, 3e38)]
    [InlineData(ScalarType.Float64, 1.7e308)]
    [InlineData(ScalarType.Float16, 60000.0)]
    public void TheLibtorchCheckAcceptsFiniteValuesWhoseSumOverflows(ScalarType type, double large)
    {
        // Transposed: not readable in place, so libtorch's sum decides first, and overflows.
        using var values = full(3, 2, large, dtype: type);
        using var transposed = values.t();
        FiniteScan.Takes(transposed).Should().BeFalse();
        var act = () => InputValidation.RequireFinite(transposed, "features");
        act.Should().NotThrow();
        values[1, 1] = double.NaN;
        act.Should().Throw<ArgumentException>().WithParameterName("features");
    }
}
