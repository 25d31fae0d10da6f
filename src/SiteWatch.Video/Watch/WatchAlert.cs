using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Video.Watch;

/// <summary>
/// One alert: a rule of a zone fired for a track. Times: the frame's video time, the KLV precision time stamp of the
/// frame (when the stream carries one: the time on the ground), and the wall-clock time the alert was raised.
/// </summary>
public sealed record WatchAlert
{
    /// <summary>This run's name for the alert (snapshot file name, CoT uid): differs between runs.</summary>
    public required string Id { get; init; }

    /// <summary>
    /// What was alerted, independent of when it was watched: the recording's identity (content hash, or the live
    /// stream's sensor time), zone, rule, track and media time. Watching the same recording again gives the same keys,
    /// so catalogs and outboxes store and send nothing twice. Null for alerts made outside a pipeline.
    /// </summary>
    public string? Key { get; init; }

    /// <summary>The stable id derived from <see cref="Key"/>: payload field and Idempotency-Key of every delivery.</summary>
    public string? Uid { get; init; }
    public required string Rule { get; init; }
    public required string Zone { get; init; }
    public required int TrackId { get; init; }
    public required string ClassName { get; init; }
    public required double Score { get; init; }
    public required double Latitude { get; init; }
    public required double Longitude { get; init; }

    /// <summary>Height above the WGS84 ellipsoid, metres.</summary>
    public required double HeightAboveEllipsoid { get; init; }

    /// <summary>Ground speed, m/s (null until the track has moved for half a second).</summary>
    public double? SpeedMps { get; init; }

    /// <summary>Course over ground, degrees true.</summary>
    public double? HeadingDeg { get; init; }

    public required long FrameIndex { get; init; }

    /// <summary>Video time of the frame, seconds from the first frame.</summary>
    public required double VideoSeconds { get; init; }

    /// <summary>The frame's KLV precision time stamp (UTC), when it has one.</summary>
    public DateTimeOffset? SensorTime { get; init; }

    /// <summary>When the alert was raised (UTC).</summary>
    public required DateTimeOffset WallTime { get; init; }

    /// <summary>From the frame's arrival to the alert, milliseconds.</summary>
    public required double LatencyMs { get; init; }

    /// <summary>The snapshot's path relative to the output folder (snapshots/ALERT.png), or null.</summary>
    public string? Snapshot { get; init; }

    /// <summary>The object's box in the frame: left, top, width, height in pixels.</summary>
    public required double[] Box { get; init; }

    /// <summary>The snapshot crop, PNG; written to <see cref="Snapshot"/>, not serialised.</summary>
    [JsonIgnore]
    public byte[]? SnapshotPng { get; init; }

    /// <summary>The event time for field tools: the sensor time when known, else the wall time.</summary>
    [JsonIgnore]
    public DateTimeOffset EventTime => SensorTime ?? WallTime;

    /// <summary>
    /// The alert as the catalog and every webhook receiver know alerts (source "video"): the track's numbers are its
    /// evidence, its position a GeoJSON point. <paramref name="source"/> names the video (file path or live URL);
    /// <paramref name="chip"/> is where the snapshot is kept, if anywhere.
    /// </summary>
    public AlertRecord ToAlertRecord(long siteId, string source, string? chip)
    {
        var inv = CultureInfo.InvariantCulture;
        var evidence = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["video"] = source,
            ["alert_id"] = Id,
            ["alert_uid"] = Uid,
            ["zone"] = Zone,
            ["track_id"] = TrackId,
            ["class"] = ClassName,
            ["score"] = Math.Round(Score, 3),
            ["frame_index"] = FrameIndex,
            ["video_seconds"] = Math.Round(VideoSeconds, 3),
            ["speed_mps"] = SpeedMps is { } v ? Math.Round(v, 2) : null,
            ["heading_deg"] = HeadingDeg is { } h ? Math.Round(h, 1) : null,
            ["height_hae_m"] = Math.Round(HeightAboveEllipsoid, 1),
            ["latency_ms"] = Math.Round(LatencyMs, 1),
            ["box_px"] = Box,
            ["chip"] = chip,
        });
        return new AlertRecord
        {
            Id = 0,
            SiteId = siteId,
            Source = AlertSource.Video,
            RuleName = $"{Zone}: {Rule}",
            Kind = Rule,
            RaisedUtc = WallTime.UtcDateTime,
            ObservedUtc = EventTime.UtcDateTime,
            Severity = "warning",
            Message = string.Create(inv, $"{ClassName} (track {TrackId}) {Rule} {Zone} at {Latitude:0.00000}N {Longitude:0.00000}E, video {VideoSeconds:0.00} s"),
            Evidence = evidence,
            GeometryGeoJson = string.Create(inv, $"{{\"type\":\"Point\",\"coordinates\":[{Longitude:R},{Latitude:R}]}}"),
            Key = Key is { } key ? $"video:{key}" : $"video:{source}:{Id}",
        };
    }
}
