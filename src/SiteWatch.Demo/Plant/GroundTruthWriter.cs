using System.Globalization;
using System.Text;
using System.Text.Json;
using NetTopologySuite.Geometries;

namespace SiteWatch.Demo.Plant;

/// <summary>
/// Writes the demo's ground truth as an RFC 7946 FeatureCollection in WGS84 (lon, lat): one feature per
/// object (feature_type "object") and one per change (feature_type "change"), plus top-level foreign members
/// describing the series ("acquisitions", with the true misregistration and cloud cover of each scene).
/// </summary>
public static class GroundTruthWriter
{
    // ~1 mm at this latitude: more would be noise, less would blur sub-metre footprints.
    private const int CoordinateDecimals = 8;

    public static string ToGeoJson(DemoPlan plan, Func<double, double, (double Lon, double Lat)> utmToWgs84)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(utmToWgs84);

        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("type", "FeatureCollection");
            json.WriteString("name", "sitewatch-demo-hamhung-plant");
            json.WriteString("source_crs", $"EPSG:{DemoPlan.Epsg}");
            json.WriteNumber("seed", plan.Seed);
            json.WriteNumber("gsd_m", plan.Gsd);
            json.WriteNumber("width_px", plan.Width);
            json.WriteNumber("height_px", plan.Height);
            json.WritePropertyName("geotransform_utm");
            WriteNumbers(json, plan.GeoTransform);
            json.WritePropertyName("bands");
            json.WriteStartArray();
            for (int b = 0; b < plan.BandNames.Length; b++)
            {
                json.WriteStartObject();
                json.WriteString("name", plan.BandNames[b]);
                json.WriteNumber("wavelength_um", plan.BandWavelengthsMicrometres[b]);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WritePropertyName("aoi");
            WriteGeometry(json, plan.AoiUtm, utmToWgs84);
            WriteAcquisitions(json, plan);

            json.WritePropertyName("features");
            json.WriteStartArray();
            foreach (var o in plan.Objects)
            {
                WriteObject(json, o, utmToWgs84);
            }

            int serial = 0;
            foreach (var c in plan.Changes)
            {
                WriteChange(json, c, ++serial, utmToWgs84);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteAcquisitions(Utf8JsonWriter json, DemoPlan plan)
    {
        json.WritePropertyName("acquisitions");
        json.WriteStartArray();
        foreach (var a in plan.Acquisitions)
        {
            json.WriteStartObject();
            json.WriteNumber("index", a.Index);
            json.WriteString("acquired_utc", a.AcquiredUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            json.WriteString("date", DateOnly.FromDateTime(a.AcquiredUtc).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            json.WriteString("sensor", a.Sensor);
            json.WriteNumber("sun_elevation_deg", a.SunElevationDeg);
            json.WriteNumber("sun_azimuth_deg", a.SunAzimuthDeg);
            json.WriteNumber("haze_level", a.HazeLevel);
            json.WriteNumber("shift_x_px", a.ShiftXPixels);
            json.WriteNumber("shift_y_px", a.ShiftYPixels);
            if (a.CloudCoverPercent is { } cover)
            {
                json.WriteNumber("cloud_cover_percent", cover);
            }
            else
            {
                json.WriteNull("cloud_cover_percent");
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteObject(Utf8JsonWriter json, TruthObject o, Func<double, double, (double Lon, double Lat)> project)
    {
        json.WriteStartObject();
        json.WriteString("type", "Feature");
        json.WriteString("id", o.Id);
        json.WritePropertyName("geometry");
        WriteGeometry(json, o.FootprintUtm, project);
        json.WritePropertyName("properties");
        json.WriteStartObject();
        json.WriteString("feature_type", "object");
        json.WriteString("id", o.Id);
        json.WriteString("class", o.Class);
        WriteDate(json, "appeared_on", o.AppearedOn);
        WriteDate(json, "removed_on", o.RemovedOn);
        json.WritePropertyName("stages");
        json.WriteStartArray();
        foreach (var s in o.Stages)
        {
            json.WriteStartObject();
            json.WriteString("from", Iso(s.From));
            json.WriteString("stage", s.Stage);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteNumber("area_m2", Math.Round(o.FootprintUtm.Area, 3));
        json.WriteNumber("height_m", Math.Round(o.HeightMetres, 2));
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteChange(Utf8JsonWriter json, TruthChange c, int serial, Func<double, double, (double Lon, double Lat)> project)
    {
        string id = $"change-{serial:D4}";
        json.WriteStartObject();
        json.WriteString("type", "Feature");
        json.WriteString("id", id);
        json.WritePropertyName("geometry");
        WriteGeometry(json, c.FootprintUtm, project);
        json.WritePropertyName("properties");
        json.WriteStartObject();
        json.WriteString("feature_type", "change");
        json.WriteString("id", id);
        json.WriteString("object_id", c.ObjectId);
        json.WriteString("class", c.Class);
        json.WriteString("before", Iso(c.Before));
        json.WriteString("after", Iso(c.After));
        json.WriteString("kind", c.Kind);
        json.WriteNumber("area_m2", Math.Round(c.AreaSquareMetres, 3));
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteDate(Utf8JsonWriter json, string name, DateOnly? date)
    {
        if (date is { } d)
        {
            json.WriteString(name, Iso(d));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static void WriteNumbers(Utf8JsonWriter json, double[] values)
    {
        json.WriteStartArray();
        foreach (double v in values)
        {
            json.WriteNumberValue(v);
        }

        json.WriteEndArray();
    }

    private static void WriteGeometry(Utf8JsonWriter json, Geometry g, Func<double, double, (double Lon, double Lat)> project)
    {
        json.WriteStartObject();
        switch (g)
        {
            case Point p:
                json.WriteString("type", "Point");
                json.WritePropertyName("coordinates");
                WritePosition(json, p.Coordinate, project);
                break;
            case LineString l:
                json.WriteString("type", "LineString");
                json.WritePropertyName("coordinates");
                WritePositions(json, l.Coordinates, project, ringWantsCcw: null);
                break;
            case Polygon poly:
                json.WriteString("type", "Polygon");
                json.WritePropertyName("coordinates");
                WritePolygonRings(json, poly, project);
                break;
            case MultiPoint mp:
                json.WriteString("type", "MultiPoint");
                json.WritePropertyName("coordinates");
                WritePositions(json, mp.Coordinates, project, ringWantsCcw: null);
                break;
            case MultiLineString ml:
                json.WriteString("type", "MultiLineString");
                json.WritePropertyName("coordinates");
                json.WriteStartArray();
                foreach (var part in ml.Geometries)
                {
                    WritePositions(json, part.Coordinates, project, ringWantsCcw: null);
                }

                json.WriteEndArray();
                break;
            case MultiPolygon mpoly:
                json.WriteString("type", "MultiPolygon");
                json.WritePropertyName("coordinates");
                json.WriteStartArray();
                foreach (var part in mpoly.Geometries)
                {
                    WritePolygonRings(json, (Polygon)part, project);
                }

                json.WriteEndArray();
                break;
            case GeometryCollection gc:
                json.WriteString("type", "GeometryCollection");
                json.WritePropertyName("geometries");
                json.WriteStartArray();
                foreach (var part in gc.Geometries)
                {
                    WriteGeometry(json, part, project);
                }

                json.WriteEndArray();
                break;
            default:
                throw new NotSupportedException($"Geometry type {g.GeometryType} cannot be written as GeoJSON.");
        }

        json.WriteEndObject();
    }

    private static void WritePolygonRings(Utf8JsonWriter json, Polygon poly, Func<double, double, (double Lon, double Lat)> project)
    {
        json.WriteStartArray();
        WritePositions(json, poly.Shell.Coordinates, project, ringWantsCcw: true);
        foreach (var hole in poly.Holes)
        {
            WritePositions(json, hole.Coordinates, project, ringWantsCcw: false);
        }

        json.WriteEndArray();
    }

    /// <summary>
    /// Writes projected positions; for rings, enforces RFC 7946's right-hand rule (exterior rings
    /// counter-clockwise, holes clockwise) measured in lon/lat.
    /// </summary>
    private static void WritePositions(Utf8JsonWriter json, Coordinate[] coords, Func<double, double, (double Lon, double Lat)> project, bool? ringWantsCcw)
    {
        var projected = new (double Lon, double Lat)[coords.Length];
        for (int i = 0; i < coords.Length; i++)
        {
            projected[i] = project(coords[i].X, coords[i].Y);
        }

        if (ringWantsCcw is { } wantCcw)
        {
            double twiceArea = 0;
            for (int i = 0; i < projected.Length - 1; i++)
            {
                twiceArea += projected[i].Lon * projected[i + 1].Lat - projected[i + 1].Lon * projected[i].Lat;
            }

            if (twiceArea > 0 != wantCcw)
            {
                Array.Reverse(projected);
            }
        }

        json.WriteStartArray();
        foreach (var (lon, lat) in projected)
        {
            json.WriteStartArray();
            json.WriteNumberValue(Math.Round(lon, CoordinateDecimals));
            json.WriteNumberValue(Math.Round(lat, CoordinateDecimals));
            json.WriteEndArray();
        }

        json.WriteEndArray();
    }

    private static void WritePosition(Utf8JsonWriter json, Coordinate c, Func<double, double, (double Lon, double Lat)> project)
    {
        var (lon, lat) = project(c.X, c.Y);
        json.WriteStartArray();
        json.WriteNumberValue(Math.Round(lon, CoordinateDecimals));
        json.WriteNumberValue(Math.Round(lat, CoordinateDecimals));
        json.WriteEndArray();
    }
}
