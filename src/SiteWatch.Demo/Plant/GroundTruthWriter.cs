using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Geo;

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

    private static readonly GeometryFactory Wgs84 = new(new PrecisionModel(), 4326);

    public static string ToGeoJson(DemoPlan plan, Func<double, double, (double Lon, double Lat)> utmToWgs84)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(utmToWgs84);

        var features = new JsonArray();
        foreach (var o in plan.Objects)
        {
            features.Add(Feature(o.Id, o.FootprintUtm, utmToWgs84, new JsonObject
            {
                ["feature_type"] = "object",
                ["id"] = o.Id,
                ["class"] = o.Class,
                ["appeared_on"] = Iso(o.AppearedOn),
                ["removed_on"] = Iso(o.RemovedOn),
                ["stages"] = new JsonArray(o.Stages.Select(st => (JsonNode?)new JsonObject { ["from"] = Iso(st.From), ["stage"] = st.Stage }).ToArray()),
                ["area_m2"] = Math.Round(o.FootprintUtm.Area, 3),
                ["height_m"] = Math.Round(o.HeightMetres, 2),
            }));
        }

        var serial = 0;
        foreach (var c in plan.Changes)
        {
            var id = $"change-{++serial:D4}";
            features.Add(Feature(id, c.FootprintUtm, utmToWgs84, new JsonObject
            {
                ["feature_type"] = "change",
                ["id"] = id,
                ["object_id"] = c.ObjectId,
                ["class"] = c.Class,
                ["before"] = Iso(c.Before),
                ["after"] = Iso(c.After),
                ["kind"] = c.Kind,
                ["area_m2"] = Math.Round(c.AreaSquareMetres, 3),
            }));
        }

        var collection = new JsonObject
        {
            ["type"] = "FeatureCollection",
            ["name"] = "sitewatch-demo-hamhung-plant",
            ["source_crs"] = $"EPSG:{DemoPlan.Epsg}",
            ["seed"] = plan.Seed,
            ["gsd_m"] = plan.Gsd,
            ["width_px"] = plan.Width,
            ["height_px"] = plan.Height,
            ["geotransform_utm"] = new JsonArray(plan.GeoTransform.Select(v => (JsonNode?)v).ToArray()),
            ["bands"] = new JsonArray(plan.BandNames.Select((name, b) => (JsonNode?)new JsonObject
            {
                ["name"] = name,
                ["wavelength_um"] = plan.BandWavelengthsMicrometres[b],
            }).ToArray()),
            ["aoi"] = Geometry(plan.AoiUtm, utmToWgs84),
            ["acquisitions"] = new JsonArray(plan.Acquisitions.Select(a => (JsonNode?)new JsonObject
            {
                ["index"] = a.Index,
                ["acquired_utc"] = a.AcquiredUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["date"] = Iso(DateOnly.FromDateTime(a.AcquiredUtc)),
                ["sensor"] = a.Sensor,
                ["sun_elevation_deg"] = a.SunElevationDeg,
                ["sun_azimuth_deg"] = a.SunAzimuthDeg,
                ["haze_level"] = a.HazeLevel,
                ["shift_x_px"] = a.ShiftXPixels,
                ["shift_y_px"] = a.ShiftYPixels,
                ["cloud_cover_percent"] = a.CloudCoverPercent,
            }).ToArray()),
            ["features"] = features,
        };
        return collection.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonObject Feature(string id, Geometry footprint, Func<double, double, (double Lon, double Lat)> project, JsonObject properties) => new()
    {
        ["type"] = "Feature",
        ["id"] = id,
        ["geometry"] = Geometry(footprint, project),
        ["properties"] = properties,
    };

    /// <summary>
    /// The geometry in WGS84 through NetTopologySuite's GeoJSON writer: positions projected and rounded, rings in RFC
    /// 7946's right-hand rule measured in lon/lat (exterior rings counter-clockwise, holes clockwise).
    /// </summary>
    private static JsonNode? Geometry(Geometry utm, Func<double, double, (double Lon, double Lat)> project)
    {
        var projected = Wgs84.CreateGeometry(utm);
        projected.Apply(new Projection(project));
        projected.GeometryChanged();
        return JsonSerializer.SerializeToNode(RightHanded(projected), AoiReader.GeoJsonOptions);
    }

    private static Geometry RightHanded(Geometry g) => g switch
    {
        Polygon p => Wgs84.CreatePolygon(Ring(p.Shell, counterClockwise: true), p.Holes.Select(h => Ring(h, counterClockwise: false)).ToArray()),
        MultiPolygon mp => Wgs84.CreateMultiPolygon(mp.Geometries.Select(part => (Polygon)RightHanded(part)).ToArray()),
        GeometryCollection gc and not MultiPoint and not MultiLineString => Wgs84.CreateGeometryCollection(gc.Geometries.Select(RightHanded).ToArray()),
        _ => g,
    };

    private static LinearRing Ring(LinearRing ring, bool counterClockwise) =>
        ring.IsCCW == counterClockwise ? ring : (LinearRing)ring.Reverse();

    /// <summary>Each position from UTM to lon/lat, rounded to <see cref="CoordinateDecimals"/>.</summary>
    private sealed class Projection(Func<double, double, (double Lon, double Lat)> project) : IEntireCoordinateSequenceFilter
    {
        public bool Done => false;

        public bool GeometryChanged => true;

        public void Filter(CoordinateSequence seq, int i) => Filter(seq);

        public void Filter(CoordinateSequence seq)
        {
            for (var i = 0; i < seq.Count; i++)
            {
                var (lon, lat) = project(seq.GetX(i), seq.GetY(i));
                seq.SetX(i, Math.Round(lon, CoordinateDecimals));
                seq.SetY(i, Math.Round(lat, CoordinateDecimals));
            }
        }
    }

    private static string? Iso(DateOnly? d) => d?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
