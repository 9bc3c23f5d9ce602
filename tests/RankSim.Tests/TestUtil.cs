namespace RankSim.Tests;

internal static class TestUtil
{
    public static float[] Floats(this Tensor tensor) => tensor.detach().cpu().to(ScalarType.Float32).data<float>().ToArray();

    public static double[] Doubles(this Tensor tensor) => tensor.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();

    /// <summary>Devices the tests can run on here: the CPU, plus CUDA where TorchSharp sees one.</summary>
    public static TheoryData<string> Devices()
    {
        var data = new TheoryData<string> { "cpu" };
        if (cuda.is_available())
        {
            data.Add("cuda");
        }

        return data;
    }
}
