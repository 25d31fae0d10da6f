using System.Text.Json.Nodes;
using SiteWatch.Core.Geo;

namespace SiteWatch.Core.Catalog;

/// <summary>
/// The JSON of sites and scenes, one shape for every host (the CLI's --json, the server's API): snake_case names, the
/// same name for the same field everywhere. A host adds what only it has (the CLI local file paths, the server links).
/// </summary>
public static class RecordJson
{
    /// <summary>A site; its AOI as GeoJSON when <paramref name="withAoi"/> (lists leave it out), its bbox always.</summary>
    public static JsonObject Site(Site s, bool withAoi = true)
    {
        var box = s.Aoi.EnvelopeInternal;
        var json = new JsonObject
        {
            ["id"] = s.Id,
            ["name"] = s.Name,
            ["crs_epsg"] = s.CrsEpsg,
            ["crs_reason"] = s.GridReason,
            ["gsd"] = s.Gsd,
            ["grid_anchor"] = s.Gsd is null ? null : new JsonArray(s.AnchorX, s.AnchorY),
            ["bbox"] = new JsonArray(box.MinX, box.MinY, box.MaxX, box.MaxY),
            ["tags"] = new JsonArray(s.Tags.Select(t => (JsonNode?)t).ToArray()),
            ["notes"] = s.Notes,
            ["created_utc"] = s.CreatedUtc,
        };
        if (withAoi)
        {
            json["aoi"] = JsonNode.Parse(GeoJsonText.Write(s.Aoi));
        }
        return json;
    }

    /// <summary>A scene as stored: bands numbered from 1, cloud cover in percent, no local paths (a host adds them).</summary>
    public static JsonObject Scene(Scene s) => new()
    {
        ["id"] = s.Id,
        ["site_id"] = s.SiteId,
        ["acquired_utc"] = s.AcquiredUtc,
        ["acquired_from"] = s.AcquiredFrom,
        ["sensor"] = s.Sensor,
        ["bands"] = new JsonArray(s.Bands.Select((b, i) => (JsonNode?)new JsonObject
        {
            ["number"] = i + 1,
            ["name"] = b.Name,
            ["wavelength_um"] = b.WavelengthMicrometres,
        }).ToArray()),
        ["cloud_cover"] = s.CloudCoverPercent,
        ["width"] = s.Width,
        ["height"] = s.Height,
        ["data_type"] = s.DataType,
        ["nodata"] = s.NoData,
        ["valid_fraction"] = Math.Round(s.ValidFraction, 4),
        ["has_cloud_mask"] = s.CloudMaskFile is not null,
        ["file_sha256"] = s.FileSha256,
        ["source_sha256"] = s.SourceSha256,
        ["ingested_utc"] = s.IngestedUtc,
    };
}
