using System.Globalization;

namespace DirExperiment;

/// <summary>
/// One run's results folder, <c>&lt;root&gt;/&lt;timestamp&gt;</c>. It is created (and written to once) before any training,
/// so an unusable <c>--out</c> fails at once; a run that ends without its results removes it again, with any parent
/// folders it had to create, so failures leave no empty folders behind.
/// </summary>
internal sealed class OutputFolder
{
    private readonly List<string> created;

    private OutputFolder(string path, List<string> created) => (Path, this.created) = (path, created);

    /// <summary>Full path of the run's folder.</summary>
    public string Path { get; }

    /// <exception cref="InputException">The folder cannot be created or written to.</exception>
    public static OutputFolder Create(string root)
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string path = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, stamp));
        for (int n = 2; Directory.Exists(path) || File.Exists(path); n++)
        {
            path = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, $"{stamp}-{n}"));
        }

        // The folders this run creates, deepest first.
        var created = new List<string>();
        for (string? folder = path; folder is not null && !Directory.Exists(folder); folder = System.IO.Path.GetDirectoryName(folder))
        {
            if (File.Exists(folder))
            {
                throw new InputException($"--out {root}: {folder} is a file, not a folder.");
            }

            created.Add(folder);
        }

        var output = new OutputFolder(path, created);
        try
        {
            Directory.CreateDirectory(path);
            string probe = System.IO.Path.Combine(path, ".write-test");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            output.Discard();
            throw new InputException($"--out {root}: cannot write results there ({ex.Message}).");
        }

        return output;
    }

    /// <summary>Removes the run's folder and the parent folders it created (those left empty).</summary>
    public void Discard()
    {
        try
        {
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }

            foreach (string folder in created.Skip(1))
            {
                if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    Directory.Delete(folder);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the folder could not be created or is in use; the run's own error is what matters.
        }
    }
}
