using System.Globalization;
using NetTopologySuite.Geometries;
using NetTopologySuite.IO;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Exports;

/// <summary>Writes export layers through GDAL/OGR: one file with a layer per kind, or one file per kind in a folder.</summary>
public static class VectorExporter
{
    /// <summary>
    /// The LIBKML options that make KML time from our date-time fields: an instant becomes a TimeStamp, an interval
    /// a TimeSpan. Set while writing and while reading a KML export back.
    /// </summary>
    public static IDisposable KmlTimeFields() => VectorDataset.ThreadConfig(
        ("LIBKML_TIMESTAMP_FIELD", SiteLayers.ObservedField),
        ("LIBKML_BEGIN_FIELD", SiteLayers.BeforeField),
        ("LIBKML_END_FIELD", SiteLayers.AfterField));

    /// <summary>Writes <paramref name="layers"/> to <paramref name="path"/> (a file, or for a folder output an existing folder).</summary>
    /// <returns>Each layer's file (the one file for multi-layer formats).</returns>
    public static IReadOnlyList<string> Write(IReadOnlyList<ExportLayer> layers, ExportFormat format, string path, bool folder, CancellationToken cancel = default)
    {
        if (format.Driver is null)
        {
            throw new ArgumentException($"{format.Name} is not a vector format", nameof(format));
        }
        using var kml = format.Kml ? KmlTimeFields() : null;
        using var wgs84 = SpatialReference.Wgs84();
        if (format.MultiLayer)
        {
            using var dataset = VectorDataset.Create(path, format.Driver);
            foreach (var layer in layers)
            {
                cancel.ThrowIfCancellationRequested();
                WriteLayer(dataset, layer, format, wgs84);
            }
            dataset.Close();
            return layers.Select(_ => path).ToList();
        }
        var files = new List<string>();
        foreach (var layer in layers)
        {
            cancel.ThrowIfCancellationRequested();
            var file = folder ? Path.Combine(path, layer.Kind + format.Extension) : path;
            using var dataset = VectorDataset.Create(file, format.Driver);
            WriteLayer(dataset, layer, format, wgs84);
            dataset.Close();
            files.Add(file);
        }
        return files;
    }

    private static void WriteLayer(VectorDataset dataset, ExportLayer layer, ExportFormat format, SpatialReference wgs84)
    {
        var fields = format.DatesAsText
            ? layer.Fields.Select(f => f.Type is VectorFieldType.DateTime or VectorFieldType.Date ? f with { Type = VectorFieldType.String } : f).ToList()
            : layer.Fields.ToList();
        if (format.PointColumns)
        {
            fields.AddRange([new VectorField("lon", VectorFieldType.Real), new VectorField("lat", VectorFieldType.Real)]);
        }
        var (type, promote) = GeometryTypeOf(layer.Features.Select(f => f.Wgs84));
        var options = format.LayerOptions.ToList();
        if (format.Driver == "GPKG")
        {
            options.Add($"IDENTIFIER={layer.Title}");
        }
        var target = dataset.CreateLayer(layer.Kind, wgs84, type, fields, options);
        var writer = new WKBWriter(ByteOrder.LittleEndian, handleSRID: false, emitZ: false);
        target.AddRange(layer.Features.Select(f => new VectorFeature
        {
            Wkb = writer.Write(promote ? Promote(f.Wgs84) : f.Wgs84),
            Values = Values(f, format),
            Style = format.Kml ? f.Style : null,
        }));
    }

    private static IReadOnlyDictionary<string, object?> Values(ExportFeature f, ExportFormat format)
    {
        if (!format.DatesAsText && !format.PointColumns)
        {
            return f.Values;
        }
        var values = f.Values.ToDictionary(v => v.Key, v => format.DatesAsText ? IsoText(v.Value) : v.Value);
        if (format.PointColumns)
        {
            // A point inside the feature (a centroid can fall outside an L-shaped roof).
            var point = f.Wgs84.InteriorPoint;
            values["lon"] = Math.Round(point.X, 7);
            values["lat"] = Math.Round(point.Y, 7);
        }
        return values;
    }

    /// <summary>One declared geometry type for the layer: polygons mixed with multipolygons become multipolygons (FlatGeobuf and GeoPackage readers expect one type).</summary>
    private static (VectorGeometryType Type, bool Promote) GeometryTypeOf(IEnumerable<Geometry> geometries)
    {
        var types = geometries.Select(g => g.OgcGeometryType).Distinct().ToList();
        return types switch
        {
            [OgcGeometryType.Point] => (VectorGeometryType.Point, false),
            [OgcGeometryType.Polygon] => (VectorGeometryType.Polygon, false),
            [OgcGeometryType.MultiPolygon] => (VectorGeometryType.MultiPolygon, false),
            [OgcGeometryType.LineString] => (VectorGeometryType.LineString, false),
            _ when types.All(t => t is OgcGeometryType.Polygon or OgcGeometryType.MultiPolygon) => (VectorGeometryType.MultiPolygon, true),
            _ => (VectorGeometryType.Unknown, false),
        };
    }

    private static Geometry Promote(Geometry g) => g is Polygon p ? g.Factory.CreateMultiPolygon([p]) : g;

    private static object? IsoText(object? value) => value switch
    {
        DateTime t => (t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        _ => value,
    };
}
