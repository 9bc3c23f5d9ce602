namespace RankSim.Tests.Dir.Imbalance;

/// <summary>
/// A label gets the same bin whether it arrives as float16, bfloat16, float32 or float64: labels that sit on a decimal
/// bin edge (STS-B-DIR's 0.2-step scores in bins of 0.1) used to fall one bin low as float32, which moved a quarter of
/// the training labels, the shot split and the LDS weights.
/// </summary>
public class BinningPrecisionTests
{
    /// <summary>STS-B-DIR-style scores: 0, 0.2, ..., 5.0 with a long tail (counts fall with the score), binned by 0.1.</summary>
    private static Tensor StsbScores(ScalarType dtype)
    {
        var values = new List<double>();
        for (int step = 0; step <= 25; step++)
        {
            double score = step / 5.0;
            values.AddRange(Enumerable.Repeat(score, 2 + (240 / (step + 1))));
        }

        return tensor(values.ToArray()).to(dtype);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void DecimalScoresOnBinEdgesGetTheBinsOfTheirFloat64Values(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var binning = LabelBinning.FixedWidth(0, 5, 50);
        var exact = StsbScores(ScalarType.Float64);
        var rounded = StsbScores(dtype);

        // Every score k / 5 is the lower edge of bin 2k (the top score 5.0 falls into the last bin).
        var expectedBins = exact.Doubles().Select(v => Math.Min((int)Math.Round(v * 10), 49)).ToArray();
        binning.BinIndex(exact).data<long>().ToArray().Select(b => (int)b).Should().Equal(expectedBins);
        binning.BinIndex(rounded).data<long>().ToArray().Select(b => (int)b).Should().Equal(expectedBins, $"{dtype} scores bin as float64 ones");

        var fromExact = LabelDistribution.FromLabels(exact, binning);
        var fromRounded = LabelDistribution.FromLabels(rounded, binning);
        fromRounded.Counts.Should().Equal(fromExact.Counts);

        var lds = new KernelWindow(KernelShape.Gaussian, size: 5, sigma: 2);
        var weights = fromExact.Reweight(Reweighting.SqrtInverse, lds);
        weights.Lookup(rounded).Floats().Should().Equal(weights.Lookup(exact).Floats(), "the same bins' weights (float32 for float32 labels, float64 for float64 ones)");

        var split = new ShotSplit(fromExact, manyThreshold: 100, fewThreshold: 20);
        var exactReport = Evaluate(split, exact);
        var roundedReport = Evaluate(split, rounded);
        foreach (var group in new[] { ShotGroup.Many, ShotGroup.Medium, ShotGroup.Few })
        {
            roundedReport[group].Count.Should().Be(exactReport[group].Count, $"{dtype} {group}");
        }
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void IntegerAgesGiveTheHistogramOfTheirInt64Values(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var ages = randint(0, 102, [3000], generator: new Generator(5));
        var reference = LabelDistribution.FromLabels(ages);
        var distribution = LabelDistribution.FromLabels(ages.to(dtype), reference.Binning);
        distribution.Counts.Should().Equal(reference.Counts, $"{dtype} ages");
        reference.Binning.BinIndex(ages.to(dtype)).data<long>().ToArray().Should().Equal(reference.Binning.BinIndex(ages).data<long>().ToArray());
    }

    private static DirReport Evaluate(ShotSplit split, Tensor labels)
    {
        var evaluator = new DirEvaluator(split);
        evaluator.Add(labels.to(ScalarType.Float64) + 0.05, labels);
        return evaluator.Compute();
    }
}
