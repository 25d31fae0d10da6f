using System.Text.Json;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Geo;

namespace SiteWatch.Core.Detection;

/// <summary>
/// One detected object on the ground: its rectangle in the raster's CRS and in WGS84, area in square metres, the
/// azimuth of its long axis (degrees clockwise from grid north, 0..180), class and score, centre in map
/// coordinates, and the detection in the raster's pixels.
/// </summary>
public sealed record GeoDetection(string ClassName, float Score, Polygon MapPolygon, Polygon Wgs84Polygon, double AreaSquareMetres, double OrientationDegrees,
    double CentreX, double CentreY, PixelDetection Pixel);

/// <summary>What a whole-scene run found, with how much work it took.</summary>
/// <param name="Crs">The raster's CRS (EPSG:n or its name), the CRS of every <see cref="GeoDetection.MapPolygon"/>.</param>
/// <param name="CountsByClass">Detections per class, every class of the model listed (zero included), in model order.</param>
/// <param name="TilesSkipped">Tiles outside the AOI, not run.</param>
/// <param name="ScannedSquareKilometres">Ground area searched: the raster's footprint, within the AOI when one is given.</param>
/// <param name="InferenceSeconds">Time inside ONNX Runtime; the rest of <paramref name="TotalSeconds"/> is reading, scaling, decoding and merging.</param>
public sealed record SceneDetections(string RasterPath, string ModelPath, string Crs, IReadOnlyList<GeoDetection> Detections, IReadOnlyDictionary<string, int> CountsByClass,
    int TilesRun, int TilesSkipped, double ScannedSquareKilometres, double InferenceSeconds, double TotalSeconds)
{
    /// <summary>The scene's metres per pixel, when its CRS tells.</summary>
    public double? SceneGsd { get; init; }

    /// <summary>The metres per pixel the model was trained at, when it says.</summary>
    public double? ModelGsd { get; init; }

    /// <summary>Scene pixels per model pixel the tiles were read at (1: the scene's own resolution).</summary>
    public double ResampleFactor { get; init; } = 1;

    /// <summary>An RFC 7946 FeatureCollection (WGS84): one feature per detection with class, score, area_m2 and orientation_deg.</summary>
    public string ToGeoJson()
    {
        var collection = new Dictionary<string, object?>
        {
            ["type"] = "FeatureCollection",
            ["features"] = Detections.Select(d => new Dictionary<string, object?>
            {
                ["type"] = "Feature",
                ["geometry"] = GeoJsonText.ToElement(d.Wgs84Polygon),
                ["properties"] = new Dictionary<string, object?>
                {
                    ["class"] = d.ClassName,
                    ["score"] = Math.Round(d.Score, 4),
                    ["area_m2"] = Math.Round(d.AreaSquareMetres, 2),
                    ["orientation_deg"] = Math.Round(d.OrientationDegrees, 1),
                },
            }).ToArray(),
        };
        return JsonSerializer.Serialize(collection);
    }

    /// <summary>Writes <see cref="ToGeoJson"/> to a file (whole or not at all).</summary>
    public void WriteGeoJson(string path)
    {
        var temp = path + ".partial";
        File.WriteAllText(temp, ToGeoJson());
        File.Move(temp, path, overwrite: true);
    }
}
