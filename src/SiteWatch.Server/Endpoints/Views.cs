using System.Text.Json;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Server.Endpoints;

/// <summary>The JSON shapes of catalog records (snake_case, like the CLI's --json).</summary>
internal static class Views
{
    public static object Site(Site s) => RecordJson.Site(s, withAoi: false);

    public static object SiteDetail(Site s, int scenes)
    {
        var json = RecordJson.Site(s);
        json["scene_count"] = scenes;
        return json;
    }

    /// <summary>A scene as every host shows it, with the links to its imagery.</summary>
    public static object Scene(Scene s)
    {
        var json = RecordJson.Scene(s);
        json["cog"] = $"/api/scenes/{s.Id}/cog";
        json["tiles"] = $"/api/scenes/{s.Id}/tiles/{{z}}/{{x}}/{{y}}.png";
        return json;
    }

    public static object ChangeRun(ChangeRunRecord r) => new
    {
        id = r.Id,
        site_id = r.SiteId,
        before_scene_id = r.BeforeSceneId,
        after_scene_id = r.AfterSceneId,
        method = r.Method,
        parameters = Parse(r.Parameters),
        summary = Parse(r.Summary),
        created_utc = r.CreatedUtc,
        objects = $"/api/changes/{r.Id}/objects",
        magnitude_tiles = $"/api/changes/{r.Id}/tiles/{{z}}/{{x}}/{{y}}.png?layer=magnitude",
        mask_tiles = $"/api/changes/{r.Id}/tiles/{{z}}/{{x}}/{{y}}.png?layer=mask",
        legend = $"/api/changes/{r.Id}/legend?layer=magnitude",
        quicklook = $"/api/changes/{r.Id}/quicklook.png",
    };

    public static object DetectionRun(DetectionRunRecord r) => new
    {
        id = r.Id,
        site_id = r.SiteId,
        scene_id = r.SceneId,
        model_name = r.ModelName,
        model_sha256 = r.ModelSha256,
        parameters = Parse(r.Parameters),
        counts = r.Counts,
        total = r.Counts.Values.Sum(),
        created_utc = r.CreatedUtc,
        features = $"/api/detections/{r.Id}/features",
    };

    public static object Alert(AlertRecord a) => new
    {
        id = a.Id,
        site_id = a.SiteId,
        source = a.Source,
        rule = a.RuleName,
        kind = a.Kind,
        severity = a.Severity,
        message = a.Message,
        raised_utc = a.RaisedUtc,
        observed_utc = a.ObservedUtc,
        acknowledged = a.Acknowledged,
        evidence = Parse(a.Evidence),
        geometry = a.GeometryGeoJson is null ? (JsonElement?)null : Parse(a.GeometryGeoJson),
        chip = ChipPath(a) is null ? null : $"/api/alerts/{a.Id}/chip.png",
    };

    /// <summary>The stored (workspace-relative) path of an alert's chip, from its evidence; null when it has none.</summary>
    public static string? ChipPath(AlertRecord a)
    {
        try
        {
            using var doc = JsonDocument.Parse(a.Evidence);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("chip", out var chip) && chip.ValueKind == JsonValueKind.String
                ? chip.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static JsonElement Parse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(json);
        }
    }
}
