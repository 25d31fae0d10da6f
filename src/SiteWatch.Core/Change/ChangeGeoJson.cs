using System.Text.Json;
using SiteWatch.Core.Geo;

namespace SiteWatch.Core.Change;

/// <summary>Change objects as an RFC 7946 FeatureCollection (WGS84), one feature per object with its measurements.</summary>
public static class ChangeGeoJson
{
    public static void Write(string path, IReadOnlyList<ChangeObject> objects, IReadOnlyDictionary<string, object?> properties)
    {
        var collection = new Dictionary<string, object?>
        {
            ["type"] = "FeatureCollection",
            ["properties"] = properties,
            ["features"] = objects.Select(o => new Dictionary<string, object?>
            {
                ["type"] = "Feature",
                ["id"] = o.Id,
                ["geometry"] = GeoJsonText.ToElement(o.FootprintWgs84),
                ["properties"] = new Dictionary<string, object?>
                {
                    ["id"] = o.Id,
                    ["kind"] = o.Kind,
                    ["shadow"] = o.Shadow,
                    ["area_m2"] = Math.Round(o.AreaSquareMetres, 2),
                    ["perimeter_m"] = Math.Round(o.PerimeterMetres, 2),
                    ["centroid_lon"] = Math.Round(o.CentroidLon, 7),
                    ["centroid_lat"] = Math.Round(o.CentroidLat, 7),
                    ["pixels"] = o.PixelCount,
                    ["mean_magnitude"] = Math.Round(o.MeanMagnitude, 4),
                    ["confidence"] = Math.Round(o.Confidence, 3),
                    ["brightness_before"] = Math.Round(o.BrightnessBefore, 2),
                    ["brightness_after"] = Math.Round(o.BrightnessAfter, 2),
                    ["ndvi_before"] = o.NdviBefore is { } nb ? Math.Round(nb, 3) : null,
                    ["ndvi_after"] = o.NdviAfter is { } na ? Math.Round(na, 3) : null,
                    ["gli_before"] = o.GreenLeafIndexBefore is { } gb ? Math.Round(gb, 3) : null,
                    ["gli_after"] = o.GreenLeafIndexAfter is { } ga ? Math.Round(ga, 3) : null,
                    ["contrast_before"] = Math.Round(o.ContrastBefore, 3),
                    ["contrast_after"] = Math.Round(o.ContrastAfter, 3),
                },
            }).ToArray(),
        };
        var temp = path + ".partial";
        File.WriteAllText(temp, JsonSerializer.Serialize(collection, new JsonSerializerOptions { WriteIndented = false }));
        File.Move(temp, path, overwrite: true);
    }
}
