using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Abstractions;

namespace RankSim.Tests.Docs;

/// <summary>
/// The C# a user copies from the docs compiles against this package. Each <c>csharp</c> block of the checked pages is
/// compiled as a console program, after the page's <c>csharp setup</c> block (the definitions its examples share, shown
/// on the page); a block marked <c>csharp partial</c> is a fragment by intent, says so in its text, and is skipped by
/// name. The README's complete program and install commands appear on the getting-started page as they are.
/// </summary>
public sealed partial class DocSnippetTests(ITestOutputHelper output)
{
    public static TheoryData<string> Pages => new() { "README.md", "docs/getting-started.md", "docs/toolkit.md" };

    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryCSharpBlockCompiles(string page)
    {
        var blocks = Blocks(File.ReadAllText(Path.Combine(RepositoryRoot, page))).Where(b => b.Language == "csharp").ToList();
        blocks.Should().NotBeEmpty();
        string setup = string.Join('\n', blocks.Where(b => b.Kind == "setup").Select(b => b.Code));
        foreach (var block in blocks.Where(b => b.Kind != "setup"))
        {
            if (block.Kind == "partial")
            {
                block.Code.Should().Contain("Partial", $"the partial block at line {block.Line} of {page} must say it is partial");
                output.WriteLine($"{page}, line {block.Line}: skipped (partial)");
                continue;
            }

            block.Kind.Should().BeEmpty($"{page}, line {block.Line}: a csharp block is plain, setup or partial");
            var errors = CompileErrors(setup, block.Code);
            errors.Should().BeEmpty($"the block at line {block.Line} of {page} must compile{(setup.Length > 0 ? " after the page's setup block" : "")}");
            output.WriteLine($"{page}, line {block.Line}: compiles");
        }
    }

    [Fact]
    public void TheGettingStartedPageShowsTheReadmesProgramAndInstallCommands()
    {
        var readme = Blocks(File.ReadAllText(Path.Combine(RepositoryRoot, "README.md")));
        var page = Blocks(File.ReadAllText(Path.Combine(RepositoryRoot, "docs/getting-started.md")));
        string program = File.ReadAllText(Path.Combine(RepositoryRoot, "samples/QuickStart/Program.cs")).ReplaceLineEndings("\n").TrimEnd();
        foreach (var blocks in new[] { readme, page })
        {
            blocks.Should().ContainSingle(b => b.Marker == "program").Which.Code.TrimEnd().Should().Be(program);
        }

        page.Should().ContainSingle(b => b.Marker == "install").Which.Code
            .Should().Be(readme.Single(b => b.Marker == "install").Code);
    }

    private sealed record Block(int Line, string Language, string Kind, string? Marker, string Code);

    /// <summary>Fenced blocks with their info string (language, then kind) and the readme-check marker just above them.</summary>
    private static List<Block> Blocks(string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        var blocks = new List<Block>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            var info = lines[i][3..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var marker = i > 0 ? MarkerPattern().Match(lines[i - 1]) : Match.Empty;
            int end = Array.FindIndex(lines, i + 1, l => l.StartsWith("```", StringComparison.Ordinal));
            end.Should().BePositive($"the block at line {i + 1} is closed");
            blocks.Add(new Block(i + 1, info.ElementAtOrDefault(0) ?? "", info.ElementAtOrDefault(1) ?? "",
                marker.Success ? marker.Groups[1].Value : null, string.Join('\n', lines[(i + 1)..end])));
            i = end;
        }

        return blocks;
    }

    /// <summary>Compiles setup + code as the Program.cs of a console app with implicit usings and nullable enabled.</summary>
    private static List<string> CompileErrors(string setup, string code)
    {
        // using directives first, then the statements and declarations in page order.
        var all = (setup + "\n" + code).Split('\n');
        bool IsUsing(string line) => UsingPattern().IsMatch(line);
        string program = string.Join('\n', all.Where(IsUsing).Distinct()) + "\n" + string.Join('\n', all.Where(l => !IsUsing(l)));
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [CSharpSyntaxTree.ParseText(ImplicitUsings, Parse), CSharpSyntaxTree.ParseText(program, Parse)],
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        return compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
    }

    private static readonly CSharpParseOptions Parse = new(LanguageVersion.Latest);

    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    /// <summary>The framework and every assembly this test runs with (TorchSharp, RankSim.TorchSharp).</summary>
    private static readonly Lazy<List<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList());

    private static string RepositoryRoot { get; } = FindRoot(AppContext.BaseDirectory);

    private static string FindRoot(string directory) =>
        File.Exists(Path.Combine(directory, "RankSim.sln"))
            ? directory
            : FindRoot(Path.GetDirectoryName(directory.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new InvalidOperationException("RankSim.sln not found above the test folder"));

    [GeneratedRegex(@"^<!-- readme-check: (\w+) -->$")]
    private static partial Regex MarkerPattern();

    [GeneratedRegex(@"^using (static )?[A-Za-z][\w.]*( = [\w.<>, ]+)?;")]
    private static partial Regex UsingPattern();
}
