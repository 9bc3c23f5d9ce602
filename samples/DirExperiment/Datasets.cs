using System.Globalization;
using System.Text.Json;
using static TorchSharp.torch;

namespace DirExperiment;

/// <summary>
/// Inputs and integer-binned labels, already split. <see cref="Images"/> datasets hold [N, 1, H, W] inputs for the
/// CNN; the others [N, F] standardised with training statistics.
/// </summary>
internal sealed record Dataset(string Name, Tensor TrainX, Tensor TrainY, Tensor ValX, Tensor ValY, Tensor TestX, Tensor TestY, bool Images)
{
    public long InputSize => TrainX.shape[1];
}

internal static class Datasets
{
    /// <summary>Per label bin, validation and test each take up to <paramref name="cap"/> samples (a quarter of the bin at most); the rest trains.</summary>
    public const int Cap = 60;

    public static Dataset Load(Options options, int seed) => options.Dataset switch
    {
        "randhie" => FromCsv("RAND HIE (mdvis)", Path.Combine(AppContext.BaseDirectory, "Data", "randhie.csv"), "mdvis", seed),
        "csv" => FromCsv(Path.GetFileName(options.DataFile!), options.DataFile!, options.LabelColumn!, seed),
        _ => AgeDbLike(seed, options.Quick),
    };

    /// <summary>A numeric CSV with a header: the label column and every other column as a feature.</summary>
    private static Dataset FromCsv(string name, string path, string labelColumn, int seed)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"No such data file: {path}.");
        }

        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
        var header = lines[0].Split(',').Select(h => h.Trim().Trim('"')).ToArray();
        int labelIndex = Array.IndexOf(header, labelColumn);
        if (labelIndex < 0)
        {
            throw new ArgumentException($"Column '{labelColumn}' is not in {path} (columns: {string.Join(", ", header)}).");
        }

        var rows = lines.Skip(1).Select((line, n) => line.Split(',').Select(cell =>
            double.TryParse(cell.Trim().Trim('"'), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
                ? v : throw new ArgumentException($"{path}, data row {n + 1}: '{cell}' is not a finite number.")).ToArray()).ToArray();
        if (rows.Any(r => r.Length != header.Length))
        {
            throw new ArgumentException($"{path}: every row needs {header.Length} cells.");
        }

        var y = rows.Select(r => r[labelIndex]).ToArray();
        var x = rows.Select(r => r.Where((_, c) => c != labelIndex).ToArray()).ToArray();
        var (train, val, test) = BalancedSplit(y, seed);
        Tensor Rows(int[] index) => tensor(index.SelectMany(i => x[i]).ToArray(), [index.Length, x[0].Length], dtype: ScalarType.Float32);
        Tensor Labels(int[] index) => tensor(index.Select(i => (float)y[i]).ToArray());
        var (trainX, valX, testX) = (Rows(train), Rows(val), Rows(test));
        var mean = trainX.mean([0], keepdim: true);
        var std = trainX.std(0, keepdim: true).clamp_min(1e-6);
        return new Dataset(name, (trainX - mean) / std, Labels(train), (valX - mean) / std, Labels(val), (testX - mean) / std, Labels(test), Images: false);
    }

    /// <summary>The DIR split: per integer label bin, up to <see cref="Cap"/> samples each (at most a quarter of the bin) go to validation and test.</summary>
    public static (int[] Train, int[] Val, int[] Test) BalancedSplit(double[] labels, int seed)
    {
        var random = new Random(seed);
        var train = new List<int>();
        var val = new List<int>();
        var test = new List<int>();
        foreach (var bin in Enumerable.Range(0, labels.Length).GroupBy(i => Math.Floor(labels[i])).OrderBy(g => g.Key))
        {
            var members = bin.OrderBy(_ => random.Next()).ToArray();
            int take = Math.Min(Cap, members.Length / 4);
            test.AddRange(members.Take(take));
            val.AddRange(members.Skip(take).Take(take));
            train.AddRange(members.Skip(2 * take));
        }

        return (train.ToArray(), val.ToArray(), test.ToArray());
    }

    /// <summary>
    /// Synthetic 24x24 grey images whose label distribution is exactly AgeDB-DIR's (train/val/test counts per age). The age
    /// is encoded by the radius of a bright disc (3 to 10 pixels); its position, brightness, a distracting square, blur of the
    /// edge and pixel noise vary at random, so the task needs a learned encoder. Deterministic for a seed.
    /// </summary>
    private static Dataset AgeDbLike(int seed, bool quick)
    {
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Data", "agedb_dir_label_histogram.json"));
        var histogram = JsonDocument.Parse(stream).RootElement;
        int[] Counts(string split) => histogram.GetProperty(split).EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var ages = histogram.GetProperty("ages").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var generator = new Generator((ulong)seed);

        // --quick keeps every fourth image of each age (at least one where the age has any), for a smoke run.
        Tensor Labels(string split) => tensor(ages.SelectMany((age, i) =>
            Enumerable.Repeat((float)age, quick && Counts(split)[i] > 0 ? Math.Max(1, Counts(split)[i] / 4) : Counts(split)[i])).ToArray());

        Tensor Images(Tensor y)
        {
            long n = y.shape[0];
            const int size = 24;
            var grid = arange(size, dtype: ScalarType.Float32);
            var (rows, cols) = (grid.view(1, size, 1), grid.view(1, 1, size));
            var radius = (3 + 7 * y / 101).view(n, 1, 1);
            var centre = 8 + rand(n, 2, generator: generator) * 8;
            var distance = ((rows - centre[.., 0].view(n, 1, 1)).square() + (cols - centre[.., 1].view(n, 1, 1)).square()).sqrt();
            var softness = 0.3 + rand(n, 1, 1, generator: generator);
            var disc = ((radius - distance) / softness).sigmoid() * (0.6 + 0.4 * rand(n, 1, 1, generator: generator));
            var corner = (rand(n, 2, generator: generator) * 18).floor();
            var square = ((rows >= corner[.., 0].view(n, 1, 1)) & (rows < corner[.., 0].view(n, 1, 1) + 4)
                & (cols >= corner[.., 1].view(n, 1, 1)) & (cols < corner[.., 1].view(n, 1, 1) + 4)).to(ScalarType.Float32) * 0.5;
            var image = disc + square + 0.15 * randn(n, size, size, generator: generator);
            return image.unsqueeze(1);
        }

        var (trainY, valY, testY) = (Labels("train"), Labels("val"), Labels("test"));
        return new Dataset("AgeDB-like synthetic images", Images(trainY), trainY, Images(valY), valY, Images(testY), testY, Images: true);
    }
}
