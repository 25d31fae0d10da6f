using System.Text.Json;
using NetTopologySuite.Geometries;

namespace SiteWatch.Core.Geo;

/// <summary>Writes NetTopologySuite geometries as GeoJSON text.</summary>
public static class GeoJsonText
{
    public static string Write(Geometry geometry) => JsonSerializer.Serialize(geometry, AoiReader.GeoJsonOptions);

    public static JsonElement ToElement(Geometry geometry) => JsonSerializer.SerializeToElement(geometry, AoiReader.GeoJsonOptions);
}
