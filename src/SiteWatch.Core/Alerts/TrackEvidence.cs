using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Core.Alerts;

/// <summary>
/// The evidence of an alert raised on video: which tracked object did what in which zone, where it was on the ground
/// and in the frame. An <see cref="AlertRecord"/> of source video carries it typed (<see cref="AlertRecord.Track"/>)
/// and as its evidence JSON (these names in snake_case), so the catalog, webhooks, CoT and the watch's own files all
/// describe one alert.
/// </summary>
public sealed record TrackEvidence
{
    /// <summary>The video: file path or live URL.</summary>
    public required string Video { get; init; }

    /// <summary>This run's name for the alert (snapshot file name, CoT uid): differs between runs.</summary>
    public required string AlertId { get; init; }

    /// <summary>The stable id of the alert as the watch raised it (its Idempotency-Key outside a site).</summary>
    public required string AlertUid { get; init; }

    public required string Zone { get; init; }
    public required int TrackId { get; init; }

    [JsonPropertyName("class")]
    public required string ClassName { get; init; }

    public required double Score { get; init; }
    public required double Latitude { get; init; }
    public required double Longitude { get; init; }

    /// <summary>Height above the WGS84 ellipsoid, metres.</summary>
    [JsonPropertyName("height_hae_m")]
    public required double HeightAboveEllipsoid { get; init; }

    /// <summary>Ground speed, m/s (null until the track has moved for half a second).</summary>
    public double? SpeedMps { get; init; }

    /// <summary>Course over ground, degrees true.</summary>
    public double? HeadingDeg { get; init; }

    public required long FrameIndex { get; init; }

    /// <summary>Video time of the frame, seconds from the first frame.</summary>
    public required double VideoSeconds { get; init; }

    /// <summary>The frame's KLV precision time stamp (UTC), when it has one: the time on the ground.</summary>
    public DateTimeOffset? SensorTime { get; init; }

    /// <summary>From the frame's arrival to the alert, milliseconds.</summary>
    public required double LatencyMs { get; init; }

    /// <summary>The object's box in the frame: left, top, width, height in pixels.</summary>
    [JsonPropertyName("box_px")]
    public required double[] Box { get; init; }

    /// <summary>The snapshot's path, relative to where the alert is kept (the watch's output folder, a workspace), or null.</summary>
    public string? Chip { get; init; }

    /// <summary>The snapshot crop, PNG, until a store writes it (to <see cref="Chip"/>); never serialised.</summary>
    [JsonIgnore]
    public byte[]? ChipPng { get; init; }

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The evidence JSON stored and sent with the alert.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>The evidence of a stored video alert; null when it is not one (another shape, an older row).</summary>
    public static TrackEvidence? TryParse(string evidence)
    {
        try
        {
            return JsonSerializer.Deserialize<TrackEvidence>(evidence, s_json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The alert of this evidence: rule <paramref name="rule"/> (a <see cref="RuleKind"/>) of the zone fired at
    /// <paramref name="raised"/>; observed at the sensor time when known. <paramref name="key"/> identifies what was
    /// alerted independently of the run (recording, zone, rule, track, media time), so nothing is stored twice.
    /// </summary>
    public AlertRecord ToAlert(long siteId, string rule, DateTimeOffset raised, string key)
    {
        var inv = CultureInfo.InvariantCulture;
        return new AlertRecord
        {
            Id = 0,
            SiteId = siteId,
            Source = AlertSource.Video,
            RuleName = $"{Zone}: {rule}",
            Kind = rule,
            RaisedUtc = raised.UtcDateTime,
            ObservedUtc = (SensorTime ?? raised).UtcDateTime,
            Severity = "warning",
            Message = string.Create(inv, $"{ClassName} (track {TrackId}) {rule} {Zone} at {Latitude:0.00000}N {Longitude:0.00000}E, video {VideoSeconds:0.00} s"),
            Evidence = ToJson(),
            GeometryGeoJson = string.Create(inv, $"{{\"type\":\"Point\",\"coordinates\":[{Longitude:R},{Latitude:R}]}}"),
            Key = $"video:{key}",
            Track = this,
        };
    }
}
