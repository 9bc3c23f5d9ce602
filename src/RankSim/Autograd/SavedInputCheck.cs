using static TorchSharp.torch;

namespace RankSim.Autograd;

/// <summary>
/// Makes an in-place change of a caller's tensor that a custom function saved fail in backward with libtorch's own
/// message ("one of the variables needed for gradient computation has been modified by an inplace operation:
/// [torch.FloatTensor [20, 4]] is at version 1; expected version 0 instead"), naming the tensor by its type and shape.
/// A custom function cannot raise from backward (the exception would abort the process), so the check is left to a
/// libtorch operation: <see cref="Attach"/> adds to the output a zero computed by a matrix product of the input (detached,
/// so sharing its version counter) with an empty matrix. The product saves the input, costs nothing, and, created after
/// the custom function, runs before it in backward, where unpacking the saved input checks its version.
/// </summary>
internal static class SavedInputCheck
{
    /// <summary>
    /// <paramref name="output"/> + 0, where the 0 depends on <paramref name="input"/> through a libtorch product that
    /// saves it; <paramref name="output"/> itself when it has no gradient to compute.
    /// </summary>
    public static Tensor Attach(Tensor output, Tensor input)
    {
        if (!output.requires_grad)
        {
            return output;
        }

        using var scope = NewDisposeScope();
        var alias = input.detach();
        Tensor zero;
        if (alias.dim() == 1)
        {
            var probe = zeros(0, alias.size(0), dtype: alias.dtype, device: alias.device).requires_grad_();
            zero = probe.mv(alias).sum();
        }
        else
        {
            var rows = alias.dim() == 2 ? alias : alias.reshape(alias.size(0), -1);
            var probe = zeros(rows.size(1), 0, dtype: alias.dtype, device: alias.device).requires_grad_();
            zero = rows.mm(probe).sum();
        }

        return output.add(zero.to(output.dtype)).MoveToOuterDisposeScope();
    }
}
