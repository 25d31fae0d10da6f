using System.Text.Json;
using NetTopologySuite.Features;
using NetTopologySuite.Geometries;
using NetTopologySuite.IO.Converters;
using NetTopologySuite.Operation.Valid;
using SiteWatch.Core.IO;

namespace SiteWatch.Core.Geo;

/// <summary>Reads and checks an area of interest: a GeoJSON polygon (or multipolygon) in WGS84, per RFC 7946.</summary>
public static class AoiReader
{
    private static readonly GeometryFactory Wgs84Factory = new(new PrecisionModel(), 4326);

    public static JsonSerializerOptions GeoJsonOptions { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions { AllowTrailingCommas = false };
        options.Converters.Add(new GeoJsonConverterFactory(Wgs84Factory));
        return options;
    }

    /// <summary>Reads an AOI file (size-limited) and checks it, including that it does not cross the antimeridian.</summary>
    public static Geometry ReadFile(string path)
    {
        var aoi = Parse(BoundedFile.ReadText(path, "GeoJSON AOI file"), path);
        RequireNoAntimeridianCrossing(aoi, path);
        return aoi;
    }

    /// <summary>
    /// RFC 7946 coordinates never wrap: a ring from 179.9 to -179.9 is a strip around the globe, not 0.2 degrees, and a
    /// polygon split at 180 degrees spans the globe on any one grid. Such AOIs are refused, not split. (Checked for new AOIs
    /// only, so a catalog that already holds one still opens.)
    /// </summary>
    public static void RequireNoAntimeridianCrossing(Geometry aoi, string source)
    {
        var envelope = aoi.EnvelopeInternal;
        if (envelope.Width > 180)
        {
            throw new SiteWatchException(FormattableString.Invariant(
                $"{source}: the AOI spans {envelope.Width:0.###} degrees of longitude ({envelope.MinX:0.######} to {envelope.MaxX:0.######}); an AOI that crosses the antimeridian (180 degrees) is not supported, it is not split either: make one site on each side of 180 degrees"));
        }
    }

    /// <summary>Parses GeoJSON text (a Feature, a FeatureCollection with one polygonal feature, or a bare geometry) and validates it.</summary>
    public static Geometry Parse(string json, string source)
    {
        Geometry geometry;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                throw new SiteWatchException($"{source}: not GeoJSON (no \"type\" member at the top level)");
            }
            if (root.TryGetProperty("crs", out var crs) && !IsWgs84CrsMember(crs))
            {
                throw new SiteWatchException($"{source}: AOI must be in WGS84 longitude/latitude (RFC 7946), but it declares the CRS {crs.GetRawText()}");
            }
            geometry = typeElement.GetString() switch
            {
                "FeatureCollection" => FromCollection(JsonSerializer.Deserialize<FeatureCollection>(json, GeoJsonOptions), source),
                "Feature" => JsonSerializer.Deserialize<IFeature>(json, GeoJsonOptions)?.Geometry
                    ?? throw new SiteWatchException($"{source}: the feature has no geometry"),
                _ => JsonSerializer.Deserialize<Geometry>(json, GeoJsonOptions)
                    ?? throw new SiteWatchException($"{source}: empty geometry"),
            };
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" (line {line + 1})" : "";
            throw new SiteWatchException($"{source}: invalid GeoJSON{where}: {FirstSentence(e.Message)}");
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or NotSupportedException)
        {
            throw new SiteWatchException($"{source}: invalid GeoJSON: {FirstSentence(e.Message)}");
        }
        Validate(geometry, source);
        geometry.SRID = 4326;
        return geometry;
    }

    private static bool IsWgs84CrsMember(JsonElement crs)
    {
        var text = crs.GetRawText();
        return text.Contains("CRS84", StringComparison.OrdinalIgnoreCase) || text.Contains("EPSG::4326", StringComparison.OrdinalIgnoreCase)
            || text.Contains("EPSG:4326", StringComparison.OrdinalIgnoreCase);
    }

    private static Geometry FromCollection(FeatureCollection? collection, string source)
    {
        if (collection is null || collection.Count == 0)
        {
            throw new SiteWatchException($"{source}: the FeatureCollection has no features");
        }
        var geometries = collection.Select(f => f.Geometry).Where(g => g is not null).ToArray();
        if (geometries.Length == 0)
        {
            throw new SiteWatchException($"{source}: no feature has a geometry");
        }
        return geometries.Length == 1 ? geometries[0] : Wgs84Factory.BuildGeometry(geometries);
    }

    private static void Validate(Geometry geometry, string source)
    {
        if (geometry is not (Polygon or MultiPolygon))
        {
            throw new SiteWatchException($"{source}: an AOI must be a Polygon or MultiPolygon, not a {geometry.GeometryType}");
        }
        if (geometry.IsEmpty)
        {
            throw new SiteWatchException($"{source}: the AOI polygon is empty");
        }
        foreach (var c in geometry.Coordinates)
        {
            if (!double.IsFinite(c.X) || !double.IsFinite(c.Y) || Math.Abs(c.X) > 180 || Math.Abs(c.Y) > 90)
            {
                throw new SiteWatchException(FormattableString.Invariant(
                    $"{source}: coordinate ({c.X}, {c.Y}) is not a longitude/latitude; an AOI must be in WGS84 (RFC 7946), not a projected CRS"));
            }
        }
        var check = new IsValidOp(geometry).ValidationError;
        if (check is not null)
        {
            throw new SiteWatchException(FormattableString.Invariant(
                $"{source}: invalid polygon: {check.Message} at ({check.Coordinate?.X:0.######}, {check.Coordinate?.Y:0.######})"));
        }
        if (geometry.Area <= 0)
        {
            throw new SiteWatchException($"{source}: the AOI polygon has zero area");
        }
    }

    private static string FirstSentence(string message)
    {
        var line = message.Split('\n')[0].Trim();
        return line.Length > 200 ? line[..200] + "..." : line;
    }
}
