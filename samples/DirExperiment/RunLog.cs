using System.Text;
using System.Text.Json;

namespace DirExperiment;

/// <summary>
/// A JSON-lines file of finished runs that a study appends to and resumes from. Appending first ends an unterminated
/// last line, so that a record is never joined to the one before it. Reading refuses a damaged line by file and line,
/// except a last line cut off while it was written (no newline, not a whole record), which is dropped with a warning:
/// its run had not been recorded and runs again.
/// </summary>
internal static class RunLog
{
    /// <summary>The records of <paramref name="file"/> (none when it does not exist).</summary>
    /// <exception cref="InputException">A line that is not a record, with the file and the line.</exception>
    public static List<T> Load<T>(string file, JsonSerializerOptions options)
        where T : class
    {
        if (!File.Exists(file))
        {
            return [];
        }

        string text = File.ReadAllText(file, Encoding.UTF8);
        var lines = text.Split('\n');
        var records = new List<T>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }

            bool last = i == lines.Length - 1;
            try
            {
                records.Add(JsonSerializer.Deserialize<T>(line, options) ?? throw new JsonException("the line is null, not a record"));
            }
            catch (JsonException ex) when (last)
            {
                Console.WriteLine($"warning: {file}, line {i + 1}: an incomplete last record (a run stopped while it was written) is dropped; that run runs again ({ex.Message.Split('.')[0]}).");
                File.WriteAllText(file, string.Join('\n', lines[..i]) + (i > 0 ? "\n" : ""), new UTF8Encoding(false));
            }
            catch (JsonException ex)
            {
                throw new InputException($"{file}, line {i + 1}: not a run record ({ex.Message.Split(". Path")[0]}); repair or remove the line to resume.");
            }
        }

        return records;
    }

    /// <summary>Appends <paramref name="record"/> as one line, ending an unterminated last line first.</summary>
    public static void Append<T>(string file, T record, JsonSerializerOptions options)
    {
        using var stream = new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        if (stream.Length > 0)
        {
            stream.Seek(-1, SeekOrigin.End);
            if (stream.ReadByte() != '\n')
            {
                stream.WriteByte((byte)'\n');
            }
        }

        stream.Seek(0, SeekOrigin.End);
        stream.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record, options) + "\n"));
        stream.Flush(flushToDisk: true);
    }
}
