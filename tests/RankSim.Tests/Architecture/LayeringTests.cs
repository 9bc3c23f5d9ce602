using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace RankSim.Tests.Architecture;

/// <summary>
/// The CPU backend is a leaf layer: no file under <c>src/RankSim/Cpu/</c> names a class, record, struct or interface
/// declared in the formula or toolkit files (enums are values and may be named; so may the shared argument checks,
/// <c>InputValidation</c>). Code and <c>cref</c> references count; prose in comments does not.
/// </summary>
public partial class LayeringTests
{
    private static string SourceRoot([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "..", "src", "RankSim"));

    [Fact]
    public void NoFileUnderCpuNamesAFormulaOrToolkitType()
    {
        string root = SourceRoot();
        var names = FormulaAndToolkitTypes(root);
        names.Should().Contain(["RankSimLoss", "BlackboxRank", "GramFunction", "LabelSimilarity", "FeatureDistributionSmoothing"]);
        var references = Directory.GetFiles(Path.Combine(root, "Cpu"), "*.cs")
            .SelectMany(file => References(File.ReadAllText(file), names).Select(name => $"{Path.GetFileName(file)}: {name}"))
            .ToList();
        references.Should().BeEmpty("Cpu/ is the leaf layer below the formulas");
    }

    /// <summary>
    /// The choice between a CPU kernel and its tensor formula is made in one place: outside <c>Cpu/</c>, only the
    /// dispatch and the public switch name <c>CpuKernels</c> or a kernel's <c>Takes</c> predicate.
    /// </summary>
    [Fact]
    public void OnlyTheDispatchAndThePublicSwitchChooseBetweenKernelsAndFormulas()
    {
        string root = SourceRoot();
        var choosing = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(root, file).Replace('\\', '/'))
            .Where(relative => !relative.StartsWith("Cpu/") && !relative.StartsWith("obj/") && !relative.StartsWith("bin/"))
            .Where(relative => Choosing().IsMatch(File.ReadAllText(Path.Combine(root, relative))))
            .Order()
            .ToList();
        choosing.Should().Equal("Backends/Dispatch.cs", "CpuBackend.cs");
    }

    [Fact]
    public void TheScanFindsCodeAndCrefReferencesButNotProse()
    {
        var names = new HashSet<string> { "LabelSimilarity", "Ranks" };
        References("var r = LabelSimilarity.Ranks(y, ties); // Ranks of the rows", names).Should().Equal("LabelSimilarity", "Ranks");
        References("/// <see cref=\"Ranks.Rows\"/>: Ranks every row.", names).Should().Equal("Ranks");
        References("/// Ranks of the label distances.", names).Should().BeEmpty();
    }

    /// <summary>Type names declared outside Cpu/ (and outside build output), less the shared argument checks.</summary>
    private static HashSet<string> FormulaAndToolkitTypes(string root)
    {
        var names = new HashSet<string>();
        foreach (string file in Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.StartsWith("Cpu/") || relative.StartsWith("obj/") || relative.StartsWith("bin/"))
            {
                continue;
            }

            foreach (Match match in Declaration().Matches(File.ReadAllText(file)))
            {
                names.Add(match.Groups[1].Value);
            }
        }

        names.Remove("InputValidation");
        return names;
    }

    /// <summary>The names of <paramref name="names"/> that a source text uses in code or in cref attributes, in order.</summary>
    private static List<string> References(string source, ISet<string> names)
    {
        var found = new List<string>();
        foreach (string line in source.Split('\n'))
        {
            int comment = line.IndexOf("//", StringComparison.Ordinal);
            string code = comment < 0 ? line : line[..comment];
            string crefs = comment < 0 ? "" : string.Join(" ", Cref().Matches(line[comment..]).Select(m => m.Groups[1].Value));
            foreach (Match token in Identifier().Matches(StringLiteral().Replace(code, "") + " " + crefs))
            {
                if (names.Contains(token.Value))
                {
                    found.Add(token.Value);
                }
            }
        }

        return found;
    }

    [GeneratedRegex(@"^[ \t]*(?:(?:public|internal|private|protected|sealed|static|abstract|partial|readonly|ref|file)\s+)*(?:class|record|struct|interface)\s+([A-Za-z_]\w*)", RegexOptions.Multiline)]
    private static partial Regex Declaration();

    [GeneratedRegex("cref=\"([^\"]+)\"")]
    private static partial Regex Cref();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"[A-Za-z_]\w*")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"\bCpuKernels\b|\.Takes\(")]
    private static partial Regex Choosing();
}
