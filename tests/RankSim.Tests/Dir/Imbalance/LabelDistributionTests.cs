using System.Text.Json;
using RankSim.Tests.Fixtures;

namespace RankSim.Tests.Dir.Imbalance;

public class LabelDistributionTests
{
    private static readonly JsonElement Reference = Golden.Load("lds_reference.json").GetProperty("reweighting");

    private static LabelDistribution ReferenceDistribution() =>
        LabelDistribution.FromValues(Reference.Doubles("labels"), LabelBinning.Integers(0, 30));

    public static TheoryData<int> ReweightingCases()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Reference.GetProperty("cases").GetArrayLength(); i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Fact]
    public void IsIntegerTellsUnitBinsOnWholeNumbersFromOtherBinnings()
    {
        LabelBinning.Integers(0, 10).IsInteger.Should().BeTrue();
        LabelBinning.IntegersFromLabels(tensor(new[] { 3L, 7L, 5L })).IsInteger.Should().BeTrue();
        LabelBinning.FixedWidth(0, 10, 10).IsInteger.Should().BeFalse("equal widths of 1 are still float bins");
        LabelBinning.FromEdges([0.0, 1.0, 2.0]).IsInteger.Should().BeFalse();
    }

    [Fact]
    public void CountsMatchTheReferenceHistogram() =>
        ReferenceDistribution().Counts.Should().Equal(Reference.Doubles("counts"));

    [Theory]
    [MemberData(nameof(ReweightingCases))]
    public void WeightsAndSmoothedCountsMatchTheReference(int index)
    {
        JsonElement c = Reference.GetProperty("cases")[index];
        var reweighting = c.GetProperty("reweight").GetString() == "inverse" ? Reweighting.Inverse : Reweighting.SqrtInverse;
        KernelWindow? lds = null;
        if (c.GetProperty("lds").GetBoolean())
        {
            var shape = c.GetProperty("kernel").GetString() switch
            {
                "gaussian" => KernelShape.Gaussian,
                "triang" => KernelShape.Triangular,
                _ => KernelShape.Laplace,
            };
            lds = new KernelWindow(shape, c.GetProperty("size").GetInt32(), c.GetProperty("sigma").GetDouble());
        }

        var weights = ReferenceDistribution().Reweight(reweighting, lds);
        if (lds is not null)
        {
            weights.EffectiveCounts.Should().Equal(c.Doubles("smoothed_effective_counts"), (a, e) => Math.Abs(a - e) <= 1e-9);
        }

        using var scope = NewDisposeScope();
        var labels = tensor(Reference.Doubles("labels"));
        var perSample = weights.Lookup(labels).Doubles();

        // The reference weights were stored as float32.
        perSample.Should().Equal(c.Doubles("weights"), (a, e) => Math.Abs(a - e) <= 1e-6 * Math.Max(1, Math.Abs(e)));
        perSample.Average().Should().BeApproximately(1.0, 1e-12);
    }

    [Fact]
    public void SmoothIsTheZeroPaddedConvolutionWithThePeakNormalizedWindow()
    {
        var distribution = LabelDistribution.FromValues([0.0, 2.0, 2.0, 4.0]);
        distribution.Counts.Should().Equal(1, 0, 2, 0, 1);
        var smoothed = distribution.Smooth(new KernelWindow(KernelShape.Triangular, 3));

        // Window [0.5, 1, 0.5]: bin 0 = 1 + 0.5 * 0, bin 1 = 0.5 * 1 + 0.5 * 2, ...
        smoothed.Should().Equal(1.0, 1.5, 2.0, 1.5, 1.0);
    }

    [Fact]
    public void DefaultBinsAreTheIntegersBetweenTheSmallestAndLargestLabel()
    {
        using var scope = NewDisposeScope();
        var distribution = LabelDistribution.FromLabels(tensor(new[] { 3.7f, 5.0f, 5.2f, 9.9f }));
        distribution.Binning.Count.Should().Be(7);
        distribution.Binning.LowerEdge(0).Should().Be(3);
        distribution.Counts.Should().Equal(1, 0, 2, 0, 0, 0, 1);
        distribution.SampleCount.Should().Be(4);
    }

    [Fact]
    public void FixedWidthBinsFollowTheStsbConvention()
    {
        var binning = LabelBinning.FixedWidth(0, 5, 50);
        binning.Count.Should().Be(50);
        binning.BinIndex(0.0).Should().Be(0);
        binning.BinIndex(0.1).Should().Be(1);
        binning.BinIndex(2.55).Should().Be(25);
        binning.BinIndex(5.0).Should().Be(49, "the upper end of the range belongs to the last bin");
        binning.BinIndex(-3.0).Should().Be(0, "labels below the range fall into the first bin");
        binning.BinIndex(7.0).Should().Be(49, "labels above the range fall into the last bin");
    }

    [Fact]
    public void TensorAndScalarBinIndicesAgree()
    {
        using var scope = NewDisposeScope();
        var binning = LabelBinning.FromEdges([-1.0, 0.0, 0.5, 2.0, 10.0]);
        var values = new[] { -5.0, -1.0, -0.5, 0.0, 0.49, 0.5, 1.99, 2.0, 9.0, 10.0, 50.0 };
        var fromTensor = binning.BinIndex(tensor(values)).data<long>().ToArray();
        fromTensor.Should().Equal(values.Select(v => (long)binning.BinIndex(v)));
        fromTensor.Should().Equal(0, 0, 0, 1, 1, 2, 2, 3, 3, 3, 3);
    }

    [Fact]
    public void LookupKeepsShapeAndDevice()
    {
        using var scope = NewDisposeScope();
        var weights = LabelDistribution.FromValues([0.0, 0.0, 0.0, 1.0]).Reweight(Reweighting.SqrtInverse);
        var looked = weights.Lookup(tensor(new[] { 0L, 1L, 1L }).reshape(3, 1));
        looked.shape.Should().Equal(3, 1);
        looked.dtype.Should().Be(ScalarType.Float32);

        // 1/sqrt(3) and 1/1, rescaled so the 4 training samples average 1: scale = 4 / (3/sqrt(3) + 1).
        double scale = 4 / (3 / Math.Sqrt(3) + 1);
        looked.Doubles().Should().Equal(new[] { scale / Math.Sqrt(3), scale, scale }, (a, e) => Math.Abs(a - e) < 1e-6);
    }

    [Fact]
    public void EmptyBinsWithoutSmoothingGetZeroWeight()
    {
        var weights = LabelDistribution.FromValues([0.0, 2.0]).Reweight(Reweighting.SqrtInverse);
        weights.BinWeights[1].Should().Be(0.0);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => LabelDistribution.FromValues(Array.Empty<double>())).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => LabelDistribution.FromValues([1.0, double.NaN])).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => LabelDistribution.FromLabels(zeros(0))).Should().Throw<ArgumentException>().WithMessage("*empty*");
        FluentActions.Invoking(() => LabelDistribution.FromLabels(ones(3, dtype: ScalarType.Bool))).Should().Throw<ArgumentException>().WithMessage("*real numbers*");
        FluentActions.Invoking(() => LabelBinning.Integers(5, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("max");
        FluentActions.Invoking(() => LabelBinning.FixedWidth(0, 5, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("count");
        FluentActions.Invoking(() => LabelBinning.FixedWidth(5, 5, 3)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => LabelBinning.FromEdges([1.0])).Should().Throw<ArgumentException>().WithParameterName("edges");
        FluentActions.Invoking(() => LabelBinning.FromEdges([1.0, 3.0, 2.0])).Should().Throw<ArgumentException>().WithMessage("*strictly increasing*");
        var distribution = LabelDistribution.FromValues([1.0, 2.0]);
        FluentActions.Invoking(() => distribution.Reweight(Reweighting.Inverse, clipMin: 10, clipMax: 5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => distribution.Reweight(Reweighting.Inverse, clipMin: 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => distribution.Reweight((Reweighting)5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("reweighting");
    }
}
