using NetTopologySuite.Geometries;

namespace SiteWatch.Core.Catalog;

/// <summary>A place under watch: its area of interest (WGS84) and the analysis grid every scene of it is resampled onto.</summary>
public sealed record Site
{
    public required long Id { get; init; }
    public required string Name { get; init; }
    /// <summary>Area of interest, WGS84 longitude/latitude.</summary>
    public required Geometry Aoi { get; init; }
    /// <summary>EPSG code of the analysis grid's CRS: the UTM zone of the AOI's centroid.</summary>
    public required int CrsEpsg { get; init; }
    /// <summary>Ground sample distance of the analysis grid in metres; null until chosen or taken from the first scene.</summary>
    public double? Gsd { get; init; }
    /// <summary>
    /// Grid alignment: pixel edges lie at AnchorX + k * Gsd (likewise Y). Taken from the first scene already on the
    /// site's CRS and GSD, so native data (e.g. Landsat's 15 m-offset grid) is stored without resampling.
    /// </summary>
    public double AnchorX { get; init; }
    public double AnchorY { get; init; }
    /// <summary>
    /// Why the grid's CRS is what it is, in words; null while it is the provisional default (the UTM zone of the AOI's
    /// centroid), which the first scene may replace with its own projected CRS.
    /// </summary>
    public string? GridReason { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public string? Notes { get; init; }
    public required DateTime CreatedUtc { get; init; }
}

/// <summary>A band of a scene: its name and centre wavelength when known.</summary>
public sealed record SceneBand(string Name, double? WavelengthMicrometres);

/// <summary>One image of a site at one time, stored on the site's grid as a Cloud Optimized GeoTIFF.</summary>
public sealed record Scene
{
    public required long Id { get; init; }
    public required long SiteId { get; init; }
    public required DateTime AcquiredUtc { get; init; }
    /// <summary>Where the acquisition time came from: "--date", "STAC", "TIFFTAG_DATETIME", "ENVI header" ...</summary>
    public required string AcquiredFrom { get; init; }
    public required string Sensor { get; init; }
    public required IReadOnlyList<SceneBand> Bands { get; init; }
    public double? CloudCoverPercent { get; init; }
    public required string SourcePath { get; init; }
    /// <summary>SHA-256 of the source file(s), hex; re-adding the same source is a no-op.</summary>
    public required string SourceSha256 { get; init; }
    /// <summary>Path of the stored COG, relative to the workspace.</summary>
    public required string File { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required string DataType { get; init; }
    public double? NoData { get; init; }
    /// <summary>Path of the stored cloud mask on the site grid (non-zero = cloud or its shadow), relative to the workspace; null when the scene came without one.</summary>
    public string? CloudMaskFile { get; init; }
    /// <summary>SHA-256 of the stored COG and cloud mask, hex (null on rows from before schema 5).</summary>
    public string? FileSha256 { get; init; }
    public string? CloudMaskSha256 { get; init; }
    /// <summary>Fraction of the stored grid holding valid (non-nodata) pixels, 0..1.</summary>
    public required double ValidFraction { get; init; }
    public required DateTime IngestedUtc { get; init; }
}

/// <summary>The grid parameters a site's first scene fixes.</summary>
public sealed record SiteGridFix(double Gsd, double AnchorX, double AnchorY, int CrsEpsg, string Reason);

/// <summary>A change detection run between two scenes of a site, with its outputs' folder (relative to the workspace).</summary>
public sealed record ChangeRunRecord
{
    public required long Id { get; init; }
    public required long SiteId { get; init; }
    public required long BeforeSceneId { get; init; }
    public required long AfterSceneId { get; init; }
    public required string Method { get; init; }
    /// <summary>Canonical JSON of every parameter that shapes the result.</summary>
    public required string Parameters { get; init; }
    public required string ParametersSha256 { get; init; }
    public required string Directory { get; init; }
    /// <summary>The run's summary JSON (as written to summary.json).</summary>
    public required string Summary { get; init; }
    public required DateTime CreatedUtc { get; init; }
    /// <summary>Every output file of the run (relative to its folder) with its SHA-256; null on rows from before schema 5.</summary>
    public IReadOnlyDictionary<string, string>? Manifest { get; init; }
}
