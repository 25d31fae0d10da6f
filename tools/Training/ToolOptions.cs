namespace SiteWatch.Training;

/// <summary>"--name value" pairs of a training tool's command line (a bare "--flag" reads "true").</summary>
internal sealed class ToolOptions
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public ToolOptions(IEnumerable<string> args)
    {
        string? key = null;
        foreach (var a in args)
        {
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                key = a[2..];
                _values[key] = "true";
            }
            else if (key is not null)
            {
                _values[key] = a;
                key = null;
            }
        }
    }

    public bool Has(string key) => _values.ContainsKey(key);

    public string Get(string key, string fallback) => _values.TryGetValue(key, out var v) ? v : fallback;

    public string? Optional(string key) => _values.TryGetValue(key, out var v) ? v : null;

    public string Required(string key) =>
        _values.TryGetValue(key, out var v) ? v : throw new ArgumentException($"--{key} is required");

    public int Int(string key, int fallback) => int.Parse(Get(key, fallback.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);

    public int[] Ints(string key, string fallback) =>
        [.. Get(key, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture))];
}
