using System.Globalization;
using nietras.SeparatedValues;

namespace DirExperiment;

/// <summary>
/// A numeric CSV read with Sep: a header row, then one sample per row; the label column and every other column as a
/// feature. The separator (comma, semicolon, tab, ...) is detected from the header; quoted fields and a UTF-8 BOM are
/// handled by the parser. Every cell must be a number with a decimal point that float32 can hold.
/// </summary>
internal sealed record CsvTable(string Path, string LabelColumn, IReadOnlyList<string> FeatureColumns, double[][] Features, double[] Labels)
{
    public static CsvTable Read(string path, string labelColumn)
    {
        if (Directory.Exists(path))
        {
            throw new InputException($"{path}: a folder, not a data file.");
        }

        if (!File.Exists(path))
        {
            throw new InputException($"{path}: no such file.");
        }

        try
        {
            using var reader = Sep.Reader(o => o with { Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true }).FromFile(path);
            return Read(reader, path, labelColumn);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: {ex.Message}");
        }
    }

    private static CsvTable Read(SepReader reader, string path, string labelColumn)
    {
        var columns = reader.Header.ColNames;
        if (reader.Header.IsEmpty || columns.All(string.IsNullOrWhiteSpace))
        {
            throw new InputException($"{path}: empty file; the first line must be a header naming the columns.");
        }

        int labelIndex = columns.ToList().IndexOf(labelColumn);
        if (labelIndex < 0)
        {
            throw new InputException($"{path}, line 1: no column '{labelColumn}' (columns: {string.Join(", ", columns)}).");
        }

        if (columns.Count == 1)
        {
            throw new InputException($"{path}: only the label column '{labelColumn}'; at least one feature column is needed.");
        }

        char separator = reader.Spec.Sep.Separator;
        var features = new List<double[]>();
        var labels = new List<double>();
        foreach (var row in reader)
        {
            if (row.ColCount != columns.Count)
            {
                throw new InputException($"{path}, line {row.LineNumberFrom}: {row.ColCount} cells, but the header names {columns.Count} columns.");
            }

            var values = new double[columns.Count];
            for (int c = 0; c < columns.Count; c++)
            {
                values[c] = Number(row[c].ToString(), path, row.LineNumberFrom, c, columns[c], separator);
            }

            labels.Add(values[labelIndex]);
            features.Add([.. values.Where((_, c) => c != labelIndex)]);
        }

        if (labels.Count == 0)
        {
            throw new InputException($"{path}: a header but no data rows.");
        }

        return new CsvTable(path, labelColumn, [.. columns.Where((_, c) => c != labelIndex)], [.. features], [.. labels]);
    }

    private static double Number(string cell, string path, int line, int column, string name, char separator)
    {
        string where = $"{path}, line {line}, column {column + 1} ('{name}')";
        if (cell.Length == 0)
        {
            throw new InputException($"{where}: empty cell; every cell must hold a number.");
        }

        if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
        {
            string hint = separator != ',' && double.TryParse(cell.Replace(',', '.'), NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                ? $"; this '{separator}'-separated file writes decimal commas: convert them to decimal points (e.g. sed 's/,/./g')"
                : "";
            throw new InputException($"{where}: '{cell}' is not a number{hint}.");
        }

        if (!double.IsFinite(value))
        {
            throw new InputException($"{where}: {cell} is not a finite number.");
        }

        if (Math.Abs(value) > float.MaxValue)
        {
            throw new InputException($"{where}: {cell} is beyond float32's range (±{float.MaxValue:G3}); the sample trains in float32.");
        }

        return value;
    }
}
