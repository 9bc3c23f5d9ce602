using System.Text.Json;

namespace RankSim.Tests.Fixtures;

/// <summary>Reads the reference JSON files copied into Fixtures/ (see the golden README in the repository's history).</summary>
internal static class Golden
{
    public static JsonElement Load(string fileName)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", fileName);
        using var stream = File.OpenRead(path);
        return JsonDocument.Parse(stream).RootElement.Clone();
    }

    public static IEnumerable<JsonElement> Cases(string fileName, string kind) =>
        Load(fileName).GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("kind").GetString() == kind);

    public static float[] Floats(this JsonElement element, string name) =>
        element.GetProperty(name).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    public static double[] Doubles(this JsonElement element, string name) =>
        element.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static long[] Shape(this JsonElement element, string name) =>
        element.GetProperty(name).EnumerateArray().Select(v => v.GetInt64()).ToArray();

    public static string Name(this JsonElement element) => element.GetProperty("name").GetString()!;
}
