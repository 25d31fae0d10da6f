using System.Text.Json;
using System.Text.Json.Serialization;
using SiteWatch.Core.Change;
using SiteWatch.Core.Change.Methods;
using SiteWatch.Core.Workflows;

namespace SiteWatch.Core.Monitoring;

/// <summary>
/// A site's standing monitoring order, kept in the catalog so any machine of a cluster can run it: where to search,
/// how often, and which steps follow each new scene. The one-machine `sitewatch monitor` builds the same
/// <see cref="MonitorOptions"/> from its flags.
/// </summary>
public sealed record MonitorSchedule
{
    public required string Source { get; init; }
    public IReadOnlyList<string> Collections { get; init; } = [];
    public double? MaxCloudCover { get; init; }
    public DateTime? FromUtc { get; init; }
    public string? Asset { get; init; }
    public long MaxDownloadBytes { get; init; } = 4L << 30;
    /// <summary>Time between two rounds.</summary>
    public required TimeSpan Every { get; init; }
    public bool Change { get; init; } = true;
    /// <summary>The change method; null: the default.</summary>
    public ChangeMethodKind? Method { get; init; }
    public bool CoRegister { get; init; } = true;
    public bool Detect { get; init; } = true;
    public bool Alerts { get; init; } = true;

    public MonitorOptions ToOptions()
    {
        var detection = Method is { } method ? new ChangeDetectionOptions { Method = method } : new ChangeDetectionOptions();
        return new MonitorOptions
        {
            Source = Source,
            Collections = Collections,
            MaxCloudCover = MaxCloudCover,
            FromUtc = FromUtc,
            Asset = Asset,
            MaxDownloadBytes = MaxDownloadBytes,
            Change = Change,
            ChangeOptions = new SiteChangeOptions { Detection = detection, CoRegister = CoRegister },
            Detect = Detect,
            Alerts = Alerts,
        };
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static MonitorSchedule FromJson(string json) =>
        JsonSerializer.Deserialize<MonitorSchedule>(json, Json) ?? throw new JsonException("null schedule");
}

/// <summary>A stored schedule with what its last round did.</summary>
public sealed record StoredMonitor(long SiteId, MonitorSchedule Schedule, DateTime UpdatedUtc, DateTime? LastRoundUtc, string? LastSummary, int FailedRounds = 0)
{
    /// <summary>The first retry after a round with failures (an item not ingested, the source unreachable); it doubles with each further one.</summary>
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When the next round is due: at once for a new or changed order; <see cref="MonitorSchedule.Every"/> after a
    /// clean round; after a round with failures, 30 s, then 1, 2, 4 ... minutes (never later than Every), so a
    /// database restart or an unreachable store costs minutes, not a whole period, and a lasting fault is not hammered.
    /// </summary>
    public DateTime NextRoundUtc
    {
        get
        {
            if (LastRoundUtc is not { } last || last < UpdatedUtc)
            {
                return DateTime.MinValue;
            }
            var wait = FailedRounds > 0
                ? TimeSpan.FromTicks(Math.Min(Schedule.Every.Ticks, FirstRetry.Ticks * (1L << Math.Min(FailedRounds - 1, 20))))
                : Schedule.Every;
            return last + wait;
        }
    }
}
