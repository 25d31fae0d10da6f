using SiteWatch.Video.Klv;
using SiteWatch.Video.Ts;

namespace SiteWatch.Video.Tests;

/// <summary>Finds ../shared/data/klv next to the repository (never copied into it).</summary>
internal static class TestData
{
    public const string MissingMessage = "Test data not found: expected shared/data/klv beside the repository (../shared/data/klv from the repo root).";

    private static readonly Lazy<string?> s_klvDirectory = new(Locate);

    public static string? KlvDirectory => s_klvDirectory.Value;

    public static string Klv(string name) =>
        Path.Combine(KlvDirectory ?? throw new InvalidOperationException(MissingMessage), name);

    public static byte[] KlvBytes(string name) => File.ReadAllBytes(Klv(name));

    private static string? Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "klv");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>All KLV packets of a TS clip, in stream order.</summary>
    public static List<(KlvAccessUnit Unit, byte[] Packet)> KlvPacketsOf(string clip)
    {
        using var stream = File.OpenRead(Klv(clip));
        var result = new List<(KlvAccessUnit, byte[])>();
        foreach (var unit in TsDemuxer.ReadKlv(stream))
        {
            foreach (var slice in KlvPacketSplitter.Split(unit.Payload))
            {
                result.Add((unit, slice.Bytes.ToArray()));
            }
        }

        return result;
    }
}

/// <summary>A fact that is skipped, with a clear message, when the shared test data is absent.</summary>
public sealed class KlvDataFactAttribute : FactAttribute
{
    public KlvDataFactAttribute()
    {
        if (TestData.KlvDirectory is null)
        {
            Skip = TestData.MissingMessage;
        }
    }
}

/// <summary>A theory that is skipped, with a clear message, when the shared test data is absent.</summary>
public sealed class KlvDataTheoryAttribute : TheoryAttribute
{
    public KlvDataTheoryAttribute()
    {
        if (TestData.KlvDirectory is null)
        {
            Skip = TestData.MissingMessage;
        }
    }
}
