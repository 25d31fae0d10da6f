using System.Text.Json;
using System.Text.Json.Serialization;

namespace SiteWatch.Core.Monitoring;

/// <summary>What finds objects in the frames of a drone watch.</summary>
public enum FrameDetectorKind
{
    /// <summary>The ONNX model when one is available (given, or shipped with SiteWatch), else the stream's VMTI targets.</summary>
    Auto,
    /// <summary>The ONNX model; an error when there is none.</summary>
    Model,
    /// <summary>The targets the stream's ST 0903 VMTI sets carry.</summary>
    Vmti,
}

/// <summary>
/// How a standing drone feed is watched: the settings of `sitewatch watch` that a feed keeps in the catalog, so any
/// silo of a cluster can run it. Zones and webhooks are the site's own (stored zones, alert rules).
/// </summary>
public sealed record FeedOptions
{
    public FrameDetectorKind Detector { get; init; } = FrameDetectorKind.Auto;
    /// <summary>An ONNX detector every silo can read; null: the one shipped with SiteWatch.</summary>
    public string? Model { get; init; }
    /// <summary>Detect on every Nth frame; null: 6 for a model, 1 for VMTI.</summary>
    public int? Every { get; init; }
    /// <summary>A terrain model every silo can read; null: the KLV frame-centre elevation as flat ground.</summary>
    public string? Dem { get; init; }
    /// <summary>Cursor-on-Target endpoint (udp://HOST:PORT or tcp://HOST:PORT) for the feed's alerts.</summary>
    public string? Cot { get; init; }
    public string CotType { get; init; } = "a-u-G";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static FeedOptions FromJson(string json) =>
        JsonSerializer.Deserialize<FeedOptions>(json, Json) ?? throw new JsonException("null feed options");
}

/// <summary>
/// A site's standing drone feed: a live stream (udp://) watched around the clock by whichever silo holds it, with
/// what its current or last run reported.
/// </summary>
public sealed record DroneFeed
{
    public required long Id { get; init; }
    public required long SiteId { get; init; }
    public required string Name { get; init; }
    /// <summary>The live stream, udp://ADDRESS:PORT[?from=...].</summary>
    public required string Source { get; init; }
    public required FeedOptions Options { get; init; }
    public required DateTime UpdatedUtc { get; init; }
    /// <summary>The silo watching it now (null when none is).</summary>
    public string? RunningOn { get; init; }
    public DateTime? StartedUtc { get; init; }
    /// <summary>One line on how the last run ended (or why it could not start).</summary>
    public string? LastNote { get; init; }
}
