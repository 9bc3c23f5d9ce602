using System.Text.Json;
using static TorchSharp.torch;

namespace DirExperiment;

/// <summary>
/// Inputs and integer-binned labels, already split. <see cref="Images"/> datasets hold [N, 1, H, W] inputs for the
/// CNN; the others [N, F] standardized with training statistics.
/// </summary>
internal sealed record Dataset(string Name, Tensor TrainX, Tensor TrainY, Tensor ValX, Tensor ValY, Tensor TestX, Tensor TestY, bool Images)
{
    public long InputSize => TrainX.shape[1];
}

internal static class Datasets
{
    /// <summary>Per label bin, validation and test each take up to <see cref="Cap"/> samples (a quarter of the bin at most); the rest trains.</summary>
    public const int Cap = 60;

    /// <summary>The widest label range, in integer bins, the sample accepts (DIR benchmarks use up to a few hundred).</summary>
    public const int MaxLabelSpan = 10_000;

    /// <summary>Reads and checks the data once; the function returned gives the split (and, for images, the draw) of a seed.</summary>
    /// <exception cref="InputException">The file cannot be read or its contents cannot be used.</exception>
    public static Func<int, Dataset> Open(ExperimentSettings settings) => Open(settings.Dataset, settings.Quick, settings.DataFile, settings.LabelColumn);

    /// <summary>Reads and checks one dataset: randhie, diamonds, agedb-like, synthetic, or csv (with its file and label column).</summary>
    public static Func<int, Dataset> Open(string dataset, bool quick, string? file, string? label) => dataset switch
    {
        "randhie" => Tabular("RAND HIE (mdvis)", CsvTable.Read(Path.Combine(AppContext.BaseDirectory, "Data", "randhie.csv"), "mdvis")),
        "diamonds" => Diamonds(CsvTable.Read(Path.Combine(AppContext.BaseDirectory, "Data", "diamonds.csv"), "price")),
        "csv" => Tabular(Path.GetFileName(file!), CsvTable.Read(file!, label!)),
        "synthetic" => seed => Synthetic(seed, quick),
        _ => seed => AgeDbLike(seed, quick),
    };

    /// <summary>Checks that the labels fit the integer binning and that the DIR split leaves data in each part.</summary>
    private static Func<int, Dataset> Tabular(string name, CsvTable table)
    {
        double low = Math.Floor(table.Labels.Min()), high = Math.Floor(table.Labels.Max());
        if (high - low + 1 > MaxLabelSpan)
        {
            throw new InputException($"{table.Path}, column '{table.LabelColumn}': labels from {low:G6} to {high:G6} span {high - low + 1:N0} integer bins; "
                + $"the DIR metrics here bin labels by whole number and this sample accepts at most {MaxLabelSpan:N0}: rescale the label (e.g. thousands instead of units).");
        }

        var (train, val, test) = BalancedSplit(table.Labels, seed: 0);
        if (train.Length < 2 || val.Length == 0 || test.Length == 0)
        {
            throw new InputException($"{table.Path}: {table.Labels.Length} data rows leave {train.Length} for training, {val.Length} for validation and {test.Length} for test; "
                + "the DIR split gives validation and test a quarter of each whole-number label bin (at most 60), so some label bin needs at least 4 rows and at least 6 rows are needed in all.");
        }

        return seed => FromTable(name, table, seed);
    }

    /// <summary>Per $100 price bin, validation and test each take up to this many diamonds (a quarter of the bin at most).</summary>
    public const int DiamondsCap = 20;

    /// <summary>Training diamonds from this price bin on ($5,000) are thinned (see <see cref="DiamondsTailScale"/>).</summary>
    public const int DiamondsTailStart = 50;

    /// <summary>A training diamond in bin b &gt;= <see cref="DiamondsTailStart"/> is kept with probability exp(-(b - 50) / 40).</summary>
    public const double DiamondsTailScale = 40;

    /// <summary>
    /// The diamonds' DIR task: the label is the price in hundreds of US dollars (price / 100, so the integer bins of the DIR
    /// metrics are $100 wide: 186 bins, $300 to $18,800). Per bin, validation and test each take up to
    /// <see cref="DiamondsCap"/> diamonds (at most a quarter of the bin), balanced as in the DIR benchmarks; the rest is the
    /// training pool, whose tail is curated to be long: from $5,000 on, each training diamond is kept with probability
    /// exp(-(bin - 50) / 40). On seed 0 this leaves 65 many-shot bins (over 100 training diamonds), 29 medium and 92
    /// few-shot (under 20; 65/31/90 on seed 1), 42,859 training and 3,165 each validation and test diamonds. The split,
    /// the thinning included, is drawn from the seed.
    /// </summary>
    private static Func<int, Dataset> Diamonds(CsvTable table)
    {
        var prices = table.Labels;
        var hundreds = prices.Select(p => p / 100).ToArray();
        return seed =>
        {
            var (pool, val, test) = BalancedSplit(hundreds, seed, DiamondsCap);
            var random = new Random(seed + 4242);
            var train = pool.Where(i => Math.Floor(hundreds[i]) < DiamondsTailStart
                || random.NextDouble() < Math.Exp(-(Math.Floor(hundreds[i]) - DiamondsTailStart) / DiamondsTailScale)).ToArray();
            return Standardized("Diamonds (price, $100 bins)", table, hundreds, train, val, test);
        };
    }

    /// <summary>The seed's DIR split of a table; features standardized (in float64) with the training rows' statistics.</summary>
    private static Dataset FromTable(string name, CsvTable table, int seed)
    {
        var (train, val, test) = BalancedSplit(table.Labels, seed);
        return Standardized(name, table, table.Labels, train, val, test);
    }

    /// <summary>The rows of a split as tensors, features standardized (in float64) with the training rows' statistics.</summary>
    private static Dataset Standardized(string name, CsvTable table, double[] labels, int[] train, int[] val, int[] test)
    {
        int width = table.FeatureColumns.Count;
        var mean = new double[width];
        var std = new double[width];
        for (int c = 0; c < width; c++)
        {
            mean[c] = train.Average(i => table.Features[i][c]);
            double m = mean[c];
            std[c] = Math.Max(1e-6, Math.Sqrt(train.Sum(i => (table.Features[i][c] - m) * (table.Features[i][c] - m)) / Math.Max(1, train.Length - 1)));
        }

        Tensor Rows(int[] index) => tensor(index.SelectMany(i => table.Features[i].Select((v, c) => (float)((v - mean[c]) / std[c]))).ToArray(), [index.Length, width]);
        Tensor Labels(int[] index) => tensor(index.Select(i => (float)labels[i]).ToArray());
        return new Dataset(name, Rows(train), Labels(train), Rows(val), Labels(val), Rows(test), Labels(test), Images: false);
    }

    /// <summary>The DIR split: per integer label bin, up to <paramref name="cap"/> samples each (at most a quarter of the bin) go to validation and test.</summary>
    public static (int[] Train, int[] Val, int[] Test) BalancedSplit(double[] labels, int seed, int cap = Cap)
    {
        var random = new Random(seed);
        var train = new List<int>();
        var val = new List<int>();
        var test = new List<int>();
        foreach (var bin in Enumerable.Range(0, labels.Length).GroupBy(i => Math.Floor(labels[i])).OrderBy(g => g.Key))
        {
            var members = bin.OrderBy(_ => random.Next()).ToArray();
            int take = Math.Min(cap, members.Length / 4);
            test.AddRange(members.Take(take));
            val.AddRange(members.Skip(take).Take(take));
            train.AddRange(members.Skip(2 * take));
        }

        return (train.ToArray(), val.ToArray(), test.ToArray());
    }

    /// <summary>
    /// Generated tabular data with AgeDB-DIR's label counts per split: 32 features x = phi(y) A + 0.5 n, where phi(y) holds
    /// sin and cos of k pi y / 101 for k = 1..4, A [8, 32] is drawn once (the same task for every seed) and n is standard
    /// normal noise drawn per seed. Smooth, strongly predictive and non-linear, unlike RAND HIE; tabular, unlike the images.
    /// </summary>
    private static Dataset Synthetic(int seed, bool quick)
    {
        var (ages, counts) = AgeDbHistogram();
        var mixing = randn(8, 32, generator: new Generator(12345));
        var noise = new Generator((ulong)seed + 777);
        Tensor Labels(string split) => LabelsOf(ages, counts[split], quick);
        Tensor Features(Tensor y)
        {
            var angles = (y.unsqueeze(1) * arange(1, 5, dtype: ScalarType.Float32) * (float)(Math.PI / 101));
            var harmonics = cat([angles.sin(), angles.cos()], 1);
            return harmonics.mm(mixing) + 0.5 * randn(y.shape[0], 32, generator: noise);
        }

        var (trainY, valY, testY) = (Labels("train"), Labels("val"), Labels("test"));
        var (trainX, valX, testX) = (Features(trainY), Features(valY), Features(testY));
        var mean = trainX.mean([0], keepdim: true);
        var std = trainX.std(0, keepdim: true);
        return new Dataset("Synthetic AgeDB-shaped tabular", (trainX - mean) / std, trainY, (valX - mean) / std, valY, (testX - mean) / std, testY, Images: false);
    }

    /// <summary>The ages of AgeDB-DIR and their sample counts per split (train, val, test).</summary>
    private static (int[] Ages, Dictionary<string, int[]> Counts) AgeDbHistogram()
    {
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Data", "agedb_dir_label_histogram.json"));
        var histogram = JsonDocument.Parse(stream).RootElement;
        var ages = histogram.GetProperty("ages").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var counts = new[] { "train", "val", "test" }.ToDictionary(s => s, s => histogram.GetProperty(s).EnumerateArray().Select(v => v.GetInt32()).ToArray());
        return (ages, counts);
    }

    /// <summary>Labels with the given count per age; --quick keeps every fourth sample of each age (at least one where the age has any).</summary>
    private static Tensor LabelsOf(int[] ages, int[] counts, bool quick) => tensor(ages.SelectMany((age, i) =>
        Enumerable.Repeat((float)age, quick && counts[i] > 0 ? Math.Max(1, counts[i] / 4) : counts[i])).ToArray());

    /// <summary>
    /// Synthetic 24x24 grey images whose label distribution is exactly AgeDB-DIR's (train/val/test counts per age). The age
    /// is encoded by the radius of a bright disc (3 to 10 pixels); its position, brightness, a distracting square, blur of the
    /// edge and pixel noise vary at random, so the task needs a learned encoder. Deterministic for a seed.
    /// </summary>
    private static Dataset AgeDbLike(int seed, bool quick)
    {
        var (ages, counts) = AgeDbHistogram();
        var generator = new Generator((ulong)seed);
        Tensor Labels(string split) => LabelsOf(ages, counts[split], quick);

        Tensor Images(Tensor y)
        {
            long n = y.shape[0];
            const int size = 24;
            var grid = arange(size, dtype: ScalarType.Float32);
            var (rows, cols) = (grid.view(1, size, 1), grid.view(1, 1, size));
            var radius = (3 + 7 * y / 101).view(n, 1, 1);
            var center = 8 + rand(n, 2, generator: generator) * 8;
            var distance = ((rows - center[.., 0].view(n, 1, 1)).square() + (cols - center[.., 1].view(n, 1, 1)).square()).sqrt();
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
