namespace SiteWatch.Core.Catalog;

/// <summary>Object detection on one scene with one model and parameters: counts per class and the detections' GeoJSON file.</summary>
public sealed record DetectionRunRecord
{
    public required long Id { get; init; }
    public required long SiteId { get; init; }
    public required long SceneId { get; init; }
    /// <summary>SHA-256 of the model file, hex: the same weights under another name are the same model.</summary>
    public required string ModelSha256 { get; init; }
    public required string ModelName { get; init; }
    /// <summary>Canonical JSON of every parameter that shapes the detections (score threshold, tiling ...).</summary>
    public required string Parameters { get; init; }
    /// <summary>SHA-256 of the model hash and the parameters: the cache key of a scene's detections.</summary>
    public required string ParametersSha256 { get; init; }
    public required IReadOnlyDictionary<string, int> Counts { get; init; }
    /// <summary>The detections as GeoJSON (WGS84), relative to the workspace.</summary>
    public required string DetectionsFile { get; init; }
    public required DateTime CreatedUtc { get; init; }
    /// <summary>SHA-256 of the detections file, hex (null on rows from before schema 5).</summary>
    public string? FileSha256 { get; init; }
}

/// <summary>Where an alert's evidence came from.</summary>
public static class AlertSource
{
    public const string Scene = "scene";
    public const string Video = "video";
}

/// <summary>Something a rule found that an analyst should look at, with its evidence.</summary>
public sealed record AlertRecord
{
    public required long Id { get; init; }
    public required long SiteId { get; init; }
    /// <summary><see cref="AlertSource"/>: scene imagery or drone video.</summary>
    public required string Source { get; init; }
    public required string RuleName { get; init; }
    public required string Kind { get; init; }
    public required DateTime RaisedUtc { get; init; }
    /// <summary>When the evidence was observed (the scene's acquisition time, or the video frame's).</summary>
    public required DateTime ObservedUtc { get; init; }
    /// <summary>info, warning or critical.</summary>
    public required string Severity { get; init; }
    public required string Message { get; init; }
    /// <summary>JSON: scene ids, the numbers that triggered the rule, chip file paths.</summary>
    public required string Evidence { get; init; }
    /// <summary>Where it happened, GeoJSON in WGS84; null when the alert has no place (e.g. a count over the whole site).</summary>
    public string? GeometryGeoJson { get; init; }
    public bool Acknowledged { get; init; }
    /// <summary>Identifies what was alerted (rule + observation), so re-checking never raises it twice.</summary>
    public required string Key { get; init; }

    /// <summary>
    /// The evidence of a video alert, typed (<see cref="Evidence"/> is its JSON); null for scene alerts and for video
    /// alerts whose stored evidence has another shape. Change it with <see cref="WithTrack"/>, which keeps both in step.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Alerts.TrackEvidence? Track { get; init; }

    /// <summary>The alert with other track evidence (e.g. the snapshot's place once stored), typed and as JSON.</summary>
    public AlertRecord WithTrack(Alerts.TrackEvidence track) => this with { Track = track, Evidence = track.ToJson() };
}

public static class DeliveryState
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}

/// <summary>A webhook an alert is to be sent to.</summary>
public sealed record DeliveryTarget(string Url, int MaxAttempts);

/// <summary>The alert rules file stored for a site, as written (comments kept).</summary>
public sealed record StoredAlertRules(long SiteId, string Json, string SourcePath, DateTime StoredUtc);
