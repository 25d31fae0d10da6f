using System.Text.Json;
using NetTopologySuite.Features;
using NetTopologySuite.Geometries;
using SiteWatch.Core.IO;

namespace SiteWatch.Core.Geo;

/// <summary>NetTopologySuite geometries and features as GeoJSON text.</summary>
public static class GeoJsonText
{
    public static string Write(Geometry geometry) => JsonSerializer.Serialize(geometry, AoiReader.GeoJsonOptions);

    public static JsonElement ToElement(Geometry geometry) => JsonSerializer.SerializeToElement(geometry, AoiReader.GeoJsonOptions);

    /// <summary>The features of a GeoJSON FeatureCollection file; a missing or unreadable file is a SiteWatchException naming it.</summary>
    public static IReadOnlyList<IFeature> ReadFeatures(string path, string missing = "file not found")
    {
        if (!File.Exists(path))
        {
            throw new SiteWatchException($"{path}: {missing}");
        }
        try
        {
            return JsonSerializer.Deserialize<FeatureCollection>(BoundedFile.ReadText(path, "GeoJSON file"), AoiReader.GeoJsonOptions)?.ToList() ?? [];
        }
        catch (JsonException e)
        {
            throw new SiteWatchException($"{path}: not a GeoJSON FeatureCollection: {e.Message.Split(". ")[0]}", e);
        }
    }
}
