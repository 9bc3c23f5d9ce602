namespace RankSim.Tests.Sampling;

public abstract class DistinctLabelSamplerTests(bool referencePath) : BothPaths(referencePath)
{
    [Fact]
    public void DistinctLabelsKeepEverySampleWithoutDrawing()
    {
        using var labels = tensor(new[] { 3.0, 1.0, 2.0 }).unsqueeze(1);
        DistinctLabelSampler.Sample(labels, null).Should().BeNull();
    }

    [Fact]
    public void KeepsExactlyOneSamplePerDistinctLabelInBatchOrder()
    {
        using var scope = NewDisposeScope();
        var values = new[] { 5L, 2L, 5L, 7L, 2L, 2L, 9L, 5L };
        var labels = tensor(values).unsqueeze(1);
        var generator = new Generator(seed: 1);
        for (int draw = 0; draw < 50; draw++)
        {
            var kept = DistinctLabelSampler.Sample(labels, generator)!.data<long>().ToArray();
            kept.Should().BeInAscendingOrder();
            kept.Select(i => values[i]).Should().BeEquivalentTo(new[] { 2L, 5L, 7L, 9L });
        }
    }

    [Fact]
    public void KDimensionalLabelsAreTheSameOnlyWhenEveryComponentIs()
    {
        using var scope = NewDisposeScope();
        var labels = tensor(new[] { 1.0, 2.0, 1.0, 3.0, 1.0, 2.0, 0.0, 2.0 }).reshape(4, 2);
        var kept = DistinctLabelSampler.Sample(labels, new Generator(seed: 3))!.data<long>().ToArray();
        kept.Should().HaveCount(3);
        kept.Should().Contain(new[] { 1L, 3L });
        kept.Should().ContainSingle(i => i == 0 || i == 2);
    }

    [Fact]
    public void EveryCandidateIsChosenWithAboutEqualFrequency()
    {
        using var scope = NewDisposeScope();

        // Label 0 has four candidates (0, 2, 4, 6), label 1 has two (1, 5), label 2 one (3).
        var labels = tensor(new[] { 0L, 1L, 0L, 2L, 0L, 1L, 0L }).unsqueeze(1);
        var generator = new Generator(seed: 42);
        var counts = new int[7];
        const int draws = 4000;
        for (int draw = 0; draw < draws; draw++)
        {
            using var inner = NewDisposeScope();
            foreach (long index in DistinctLabelSampler.Sample(labels, generator)!.data<long>().ToArray())
            {
                counts[index]++;
            }
        }

        counts[3].Should().Be(draws);
        foreach (int candidate in new[] { 0, 2, 4, 6 })
        {
            // Binomial(4000, 1/4): standard deviation about 27; 5 standard deviations is 137.
            counts[candidate].Should().BeInRange(1000 - 137, 1000 + 137);
        }

        foreach (int candidate in new[] { 1, 5 })
        {
            counts[candidate].Should().BeInRange(2000 - 160, 2000 + 160);
        }
    }

    [Fact]
    public void TheSameSeedGivesTheSameChoice()
    {
        using var scope = NewDisposeScope();
        var labels = randint(0, 10, 200).unsqueeze(1);
        var first = new Generator(seed: 7);
        var second = new Generator(seed: 7);
        var other = new Generator(seed: 8);
        for (int draw = 0; draw < 10; draw++)
        {
            var a = DistinctLabelSampler.Sample(labels, first)!.data<long>().ToArray();
            var b = DistinctLabelSampler.Sample(labels, second)!.data<long>().ToArray();
            a.Should().Equal(b);
        }

        var c = DistinctLabelSampler.Sample(labels, other)!.data<long>().ToArray();
        var d = DistinctLabelSampler.Sample(labels, new Generator(seed: 7))!.data<long>().ToArray();
        c.Should().NotEqual(d);
    }

    [Theory]
    [InlineData("float32")]
    [InlineData("float64")]
    public void TheCpuPathChoosesWhatTheTensorPathChooses(string dtype)
    {
        using var scope = NewDisposeScope();
        var type = dtype == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        foreach (int batch in new[] { 1, 2, 7, 64, 300 })
        {
            var labels = (randint(0, 9, [batch, 1], generator: new Generator((ulong)batch)).to(type) - 4) * 0.5;
            labels[0, 0] = -0.0;
            var managed = new Generator(seed: 3);
            var reference = new Generator(seed: 3);
            for (int draw = 0; draw < 5; draw++)
            {
                var expected = DistinctLabelSampler.SampleByTensors(labels, reference);
                var actual = DistinctLabelSampler.Sample(labels, managed);
                (actual is null).Should().Be(expected is null);
                if (expected is not null)
                {
                    actual!.data<long>().ToArray().Should().Equal(expected.data<long>().ToArray(), $"{dtype} B={batch} draw {draw}");
                }
            }
        }
    }

    [Fact]
    public void DistinctFloatLabelsOnTheCpuKeepEverySampleWithoutDrawing()
    {
        var generator = new Generator(seed: 5);
        var state = generator.get_state();
        DistinctLabelSampler.Sample(tensor(new[] { 0.5, -0.0, 2.0, 1.0 }).unsqueeze(1), generator).Should().BeNull();
        generator.get_state().data<byte>().ToArray().Should().Equal(state.data<byte>().ToArray());
    }
}

/// <summary><see cref="DistinctLabelSamplerTests"/> with the CPU kernels.</summary>
public sealed class DistinctLabelSamplerWithKernelsTests() : DistinctLabelSamplerTests(referencePath: false);

/// <summary><see cref="DistinctLabelSamplerTests"/> on the device-agnostic tensor path (what CUDA runs).</summary>
public sealed class DistinctLabelSamplerOnReferencePathTests() : DistinctLabelSamplerTests(referencePath: true);
