using static TorchSharp.torch;

namespace RankSim.Autograd;

/// <summary>
/// Makes a second <c>backward()</c> through a custom function's output fail as it does through libtorch's own functions.
/// TorchSharp never frees the tensors a custom function saved, so without this a second backward without
/// <c>retain_graph</c> would silently run again (and a float64 loss, whose graph ends in libtorch operations, would
/// raise): <see cref="Mark"/> multiplies the output by a saved tensor 1, and libtorch's multiplication frees what it
/// saved after the first backward, unless the graph is retained.
/// </summary>
internal static class SecondBackwardCheck
{
    /// <summary><paramref name="output"/> * 1, by a libtorch operation that saves the 1 for its backward.</summary>
    public static Tensor Mark(Tensor output)
    {
        using var one = ones([], dtype: output.dtype, device: output.device);
        return output.mul(one);
    }
}
