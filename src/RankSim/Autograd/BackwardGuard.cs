using System.Diagnostics;
using static TorchSharp.torch;

namespace RankSim.Autograd;

/// <summary>
/// Makes the backward passes of this package's custom autograd functions total. TorchSharp calls a custom backward from
/// native code, and an exception that escapes it terminates the process; so every backward runs through
/// <see cref="Run"/>, reads its upstream gradient through <see cref="Dense"/>, and validates nothing that forward did
/// not already validate.
/// </summary>
internal static class BackwardGuard
{
    private static Exception? _lastFailure;

    /// <summary>The last exception a backward pass caught (for diagnostics and tests); null when none.</summary>
    public static Exception? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>
    /// Runs <paramref name="body"/>. Should it throw after all (a bug, or memory exhausted), the exception does not
    /// reach native code: it is kept in <see cref="LastFailure"/> and traced, and the function returns a gradient of
    /// shape [0] for its first input. libtorch's engine rejects that shape with an ordinary error, which reaches the
    /// caller of <c>backward()</c> as a catchable exception instead of aborting the process.
    /// </summary>
    public static List<Tensor> Run(string function, int inputs, Func<List<Tensor>> body)
    {
        try
        {
            return body();
        }
        catch (Exception exception)
        {
            Volatile.Write(ref _lastFailure, exception);
            Trace.TraceError($"RankSim: the backward pass of {function} failed: {exception}");
            var gradients = new List<Tensor> { empty(0) };
            for (int i = 1; i < inputs; i++)
            {
                gradients.Add(null!);
            }

            return gradients;
        }
    }

    /// <summary>
    /// The upstream gradient as a dense tensor of <paramref name="dtype"/>: a sparse gradient (which libtorch's engine
    /// may hand over, e.g. from <c>backward([grad.to_sparse()])</c>) is densified, another dtype is cast. Null when the
    /// engine passed no gradient (the output was not used), which means zero.
    /// </summary>
    public static Tensor? Dense(Tensor? gradient, ScalarType dtype)
    {
        if (gradient is null || gradient.IsInvalid)
        {
            return null;
        }

        var dense = gradient.is_sparse ? gradient.to_dense() : gradient;
        return dense.dtype == dtype ? dense : dense.to(dtype);
    }
}
