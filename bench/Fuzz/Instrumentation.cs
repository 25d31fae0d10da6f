namespace SiteWatch.Fuzz;

/// <summary>
/// SharpFuzz's IL rewriting (the afl-fuzz edge instrumentation: each basic block bumps
/// SharedMem[id ^ PrevLocation]) applied to copies of the parsers' assemblies. The worker points
/// <c>SharpFuzz.Common.Trace.SharedMem</c> at its own 64 KB map, so it reads real edge coverage in-process,
/// without afl-fuzz or libFuzzer.
/// </summary>
internal static class Instrumentation
{
    /// <summary>Assembly -> the type-name prefixes instrumented in it (the parsers and what they call, not the whole product).</summary>
    private static readonly (string Assembly, string[] Prefixes)[] Plan =
    [
        ("SiteWatch.Video.dll", ["SiteWatch.Video.Ts.", "SiteWatch.Video.Klv.", "SiteWatch.Video.Watch.WatchZone"]),
        ("SiteWatch.Core.dll", ["SiteWatch.Core.Geo.", "SiteWatch.Core.Ingest.SceneMetadata", "SiteWatch.Core.Alerts.AlertRule", "SiteWatch.Core.Alerts.RuleKind"]),
        ("NetTopologySuite.IO.GeoJSON4STJ.dll", [""]),
    ];

    public static int Instrument(string directory)
    {
        foreach (var (assembly, prefixes) in Plan)
        {
            var path = Path.Combine(directory, assembly);
            if (!File.Exists(path))
            {
                throw new ArgumentException($"{path}: not found");
            }

            var types = SharpFuzz.Fuzzer.Instrument(path, name => prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)), SharpFuzz.Options.Value);
            Console.WriteLine($"instrumented {assembly}: {types.Count()} types");
        }

        return 0;
    }

    /// <summary>True when the parsers' assembly in this process carries the instrumentation.</summary>
    public static bool IsActive() =>
        typeof(SiteWatch.Video.Ts.TsDemuxer).Assembly.GetReferencedAssemblies().Any(a => a.Name == "SharpFuzz.Common");
}
