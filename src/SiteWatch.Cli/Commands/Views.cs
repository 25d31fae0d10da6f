using System.Text.Json;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;

namespace SiteWatch.Cli.Commands;

/// <summary>The JSON shapes of catalog records (snake_case, stable for scripts).</summary>
internal static class Views
{
    public static object Site(Site s, IReadOnlyList<Scene>? scenes = null) => new
    {
        id = s.Id,
        name = s.Name,
        crs = $"EPSG:{s.CrsEpsg}",
        crs_reason = s.GridReason,
        gsd_m = s.Gsd,
        grid_anchor = s.Gsd is null ? null : new[] { s.AnchorX, s.AnchorY },
        aoi = GeoJsonText.ToElement(s.Aoi),
        aoi_bbox = new[] { s.Aoi.EnvelopeInternal.MinX, s.Aoi.EnvelopeInternal.MinY, s.Aoi.EnvelopeInternal.MaxX, s.Aoi.EnvelopeInternal.MaxY },
        tags = s.Tags,
        notes = s.Notes,
        created_utc = s.CreatedUtc,
        scene_count = scenes?.Count,
        scenes = scenes?.Select(Scene).ToArray(),
    };

    public static object Scene(Scene s) => new
    {
        id = s.Id,
        site_id = s.SiteId,
        acquired_utc = s.AcquiredUtc,
        acquired_from = s.AcquiredFrom,
        sensor = s.Sensor,
        bands = s.Bands.Select(b => new { name = b.Name, wavelength_um = b.WavelengthMicrometres }).ToArray(),
        cloud_cover_percent = s.CloudCoverPercent,
        width = s.Width,
        height = s.Height,
        data_type = s.DataType,
        nodata = s.NoData,
        valid_fraction = Math.Round(s.ValidFraction, 4),
        file = s.File,
        cloud_mask_file = s.CloudMaskFile,
        source_path = s.SourcePath,
        source_sha256 = s.SourceSha256,
        ingested_utc = s.IngestedUtc,
    };

    public static JsonElement Element(object value) => JsonSerializer.SerializeToElement(value, Output.Json);
}
