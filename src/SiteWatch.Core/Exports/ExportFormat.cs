namespace SiteWatch.Core.Exports;

/// <summary>A file format a site's results are exported to, and the GDAL/OGR driver that writes it.</summary>
public sealed record ExportFormat
{
    /// <summary>The name the user types (--format).</summary>
    public required string Name { get; init; }
    /// <summary>GDAL driver short name; null for STAC (written by SiteWatch itself: JSON linking stored files).</summary>
    public string? Driver { get; init; }
    public required string Extension { get; init; }
    /// <summary>Whether one file holds several layers (one per kind); otherwise each kind gets its own file in a folder.</summary>
    public bool MultiLayer { get; init; }
    /// <summary>Layer creation options of the driver.</summary>
    public IReadOnlyList<string> LayerOptions { get; init; } = [];
    /// <summary>Whether date-times are written as ISO 8601 text (CSV: OGR would write "2024/03/14 02:00:00+00").</summary>
    public bool DatesAsText { get; init; }
    /// <summary>Whether each feature also gets lon/lat columns (a point inside it) for tools that do not read WKT.</summary>
    public bool PointColumns { get; init; }
    /// <summary>Whether features carry KML time (TimeStamp / TimeSpan) and styles.</summary>
    public bool Kml { get; init; }

    public static readonly ExportFormat GeoPackage = new() { Name = "gpkg", Driver = "GPKG", Extension = ".gpkg", MultiLayer = true };
    // LIBKML, not the older KML driver: it writes TimeStamp / TimeSpan from date-time fields, styles, and KMZ by extension.
    public static readonly ExportFormat KmlFile = new() { Name = "kml", Driver = "LIBKML", Extension = ".kml", MultiLayer = true, Kml = true };
    public static readonly ExportFormat Kmz = new() { Name = "kmz", Driver = "LIBKML", Extension = ".kmz", MultiLayer = true, Kml = true };
    public static readonly ExportFormat GeoJson = new() { Name = "geojson", Driver = "GeoJSON", Extension = ".geojson", LayerOptions = ["RFC7946=YES", "WRITE_NAME=NO"] };
    public static readonly ExportFormat Csv = new() { Name = "csv", Driver = "CSV", Extension = ".csv", LayerOptions = ["GEOMETRY=AS_WKT", "STRING_QUOTING=IF_NEEDED"], DatesAsText = true, PointColumns = true };
    public static readonly ExportFormat FlatGeobuf = new() { Name = "fgb", Driver = "FlatGeobuf", Extension = ".fgb", LayerOptions = ["SPATIAL_INDEX=YES"] };
    public static readonly ExportFormat Stac = new() { Name = "stac", Extension = "" };

    public static readonly IReadOnlyList<ExportFormat> All = [GeoPackage, KmlFile, Kmz, GeoJson, Csv, FlatGeobuf, Stac];

    public static ExportFormat Parse(string? name)
    {
        var key = (name ?? "").Trim().TrimStart('.').ToLowerInvariant() switch
        {
            "geopackage" => "gpkg",
            "json" => "geojson",
            "flatgeobuf" => "fgb",
            var other => other,
        };
        return All.FirstOrDefault(f => f.Name == key)
            ?? throw new SiteWatchException($"unknown export format '{name}' (known: {string.Join(", ", All.Select(f => f.Name))})");
    }
}

/// <summary>The kinds of results a site export can hold, one layer each.</summary>
public static class ExportKind
{
    public const string Aoi = "aoi";
    public const string Scenes = "scenes";
    public const string Changes = "changes";
    public const string Detections = "detections";
    public const string Alerts = "alerts";
    public const string Zones = "zones";
    public const string Tracks = "tracks";
    public const string Footprints = "footprints";

    public static readonly IReadOnlyList<string> All = [Aoi, Scenes, Changes, Detections, Alerts, Zones, Tracks, Footprints];

    /// <summary>The kinds a workspace keeps: what an export holds when --what is not given.</summary>
    public static readonly IReadOnlyList<string> Stored = [Aoi, Scenes, Changes, Detections, Alerts, Zones];

    /// <summary>Parses a comma-separated list ("changes,alerts"); null or empty means every stored kind.</summary>
    public static IReadOnlyList<string> ParseList(string? list)
    {
        if (string.IsNullOrWhiteSpace(list))
        {
            return Stored;
        }
        var kinds = new List<string>();
        foreach (var item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kind = item.ToLowerInvariant();
            if (!All.Contains(kind))
            {
                throw SiteWatchException.About("what", $"'{item}' is not a kind (known: {string.Join(", ", All)})");
            }
            if (!kinds.Contains(kind))
            {
                kinds.Add(kind);
            }
        }
        return kinds.Count == 0 ? throw SiteWatchException.About("what", "names no kind") : kinds;
    }
}
