using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RankSim.Tests.Architecture;

/// <summary>
/// CUDA readiness without a GPU: outside the CPU backend (<c>src/RankSim/Cpu/</c>, which runs on the CPU by
/// definition), every tensor factory call in the package names its device, taken from an input, so that the
/// device-agnostic path creates every tensor where its inputs are. The few calls that need no device are listed here
/// with the reason.
/// </summary>
public sealed class DeviceTests
{
    /// <summary>libtorch's factories that create a tensor from nothing (the <c>*_like</c> ones take their input's device).</summary>
    private static readonly HashSet<string> Factories =
    [
        "zeros", "ones", "empty", "full", "arange", "tensor", "as_tensor", "from_array", "eye", "linspace", "logspace",
        "randperm", "rand", "randn", "randint", "empty_strided", "scalar_tensor", "tril_indices", "triu_indices", "normal",
    ];

    /// <summary>Factory calls without a device, by file and the call's text, with the reason they need none.</summary>
    private static readonly Dictionary<string, string> Allowed = new()
    {
        // A gradient of shape [0] that the engine must reject (a failed backward): never used as a value.
        ["Autograd/BackwardGuard.cs: empty(0)"] = "rejected by the engine on every device",

        // The noise scale of BMC/GAI: a module parameter, created on the CPU and moved by the user's module.to(device).
        ["Dir/Losses/BalancedMSE/BalancedMSELoss.cs: tensor(initialNoiseSigma, dtype: ScalarType.Float32)"] = "a parameter, moved with its module",
    };

    private static string SourceRoot([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "..", "src", "RankSim"));

    [Fact]
    public void EveryTensorFactoryOutsideTheCpuBackendNamesItsDevice()
    {
        var calls = FactoryCallsWithoutDevice(SourceRoot()).ToList();
        calls.Should().Contain(Allowed.Keys, "the allowed calls are still there (remove them from the list otherwise)");
        calls.Except(Allowed.Keys).Should().BeEmpty("a tensor created without a device lands on the CPU when the inputs are on CUDA");
    }

    [Fact]
    public void TheScanFindsFactoryCallsWithoutADeviceAndOnlyThose()
    {
        const string code = """
            class C
            {
                void M(Tensor x)
                {
                    var a = zeros(3, dtype: ScalarType.Float32);
                    var b = torch.arange(4, device: x.device);
                    var c = zeros_like(x);
                    var d = x.new_zeros(2);
                    var e = torch.randn(2, 2);
                    var f = ones(
                        2,
                        device: x.device);
                }
            }
            """;
        Scan(CSharpSyntaxTree.ParseText(code)).Should().Equal("zeros(3, dtype: ScalarType.Float32)", "torch.randn(2, 2)");
    }

    private static IEnumerable<string> FactoryCallsWithoutDevice(string root)
    {
        foreach (string file in Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories).Order())
        {
            string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.StartsWith("Cpu/") || relative.StartsWith("obj/") || relative.StartsWith("bin/"))
            {
                continue;
            }

            foreach (string call in Scan(CSharpSyntaxTree.ParseText(File.ReadAllText(file))))
            {
                yield return $"{relative}: {call}";
            }
        }
    }

    /// <summary>Factory calls (bare, or on <c>torch</c>) that pass no <c>device:</c> argument, as their source text.</summary>
    private static List<string> Scan(SyntaxTree tree) =>
        tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Where(call => call.Expression switch
            {
                IdentifierNameSyntax name => Factories.Contains(name.Identifier.Text),
                MemberAccessExpressionSyntax { Expression: IdentifierNameSyntax { Identifier.Text: "torch" } } member => Factories.Contains(member.Name.Identifier.Text),
                _ => false,
            })
            .Where(call => !call.ArgumentList.Arguments.Any(a => a.NameColon?.Name.Identifier.Text == "device"))
            .Select(call => string.Join(' ', call.ToString().Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim())))
            .ToList();
}
