using System.Text.Json;
using NetTopologySuite.Features;
using NetTopologySuite.Geometries;
using NetTopologySuite.IO.Converters;
using SiteWatch.Demo.Plant;

namespace SiteWatch.Tests.Demo;

public sealed class GroundTruthWriterTests
{
    private static readonly Lazy<string> _json = new(() => GroundTruthWriter.ToGeoJson(DemoScenes.Plan, PlantScenario.Utm52ToWgs84));

    private static DemoPlan Plan => DemoScenes.Plan;

    [Fact]
    public void GeoJSON_has_one_feature_per_object_and_change_with_their_properties()
    {
        using var doc = JsonDocument.Parse(_json.Value);
        var root = doc.RootElement;
        Assert.Equal("FeatureCollection", root.GetProperty("type").GetString());
        var features = root.GetProperty("features").EnumerateArray().ToArray();
        var objects = features.Where(f => f.GetProperty("properties").GetProperty("feature_type").GetString() == "object").ToArray();
        var changes = features.Where(f => f.GetProperty("properties").GetProperty("feature_type").GetString() == "change").ToArray();
        Assert.Equal(Plan.Objects.Count, objects.Length);
        Assert.Equal(Plan.Changes.Count, changes.Length);
        Assert.Equal(features.Length, objects.Length + changes.Length);

        var classes = objects.Select(f => f.GetProperty("properties").GetProperty("class").GetString()).Distinct().OrderBy(c => c);
        Assert.Equal(TruthClasses.All.OrderBy(c => c), classes);

        var building = objects.Single(f => f.GetProperty("properties").GetProperty("class").GetString() == TruthClasses.NewAssemblyBuilding);
        var props = building.GetProperty("properties");
        Assert.Equal(10368, props.GetProperty("area_m2").GetDouble(), 1e-3);
        Assert.Equal(5, props.GetProperty("stages").GetArrayLength());
        Assert.Equal("cleared", props.GetProperty("stages")[0].GetProperty("stage").GetString());
        Assert.Equal(JsonValueKind.String, props.GetProperty("appeared_on").ValueKind);
        Assert.Equal(JsonValueKind.Null, props.GetProperty("removed_on").ValueKind);

        var crane = objects.Single(f => f.GetProperty("id").GetString() == "crane-1").GetProperty("properties");
        Assert.Equal(JsonValueKind.Null, crane.GetProperty("appeared_on").ValueKind);
        Assert.Equal(DemoScenes.Object("crane-1").RemovedOn!.Value.ToString("yyyy-MM-dd"), crane.GetProperty("removed_on").GetString());

        foreach (var (change, truth) in changes.Zip(Plan.Changes))
        {
            var p = change.GetProperty("properties");
            Assert.Equal(truth.ObjectId, p.GetProperty("object_id").GetString());
            Assert.Equal(truth.Kind, p.GetProperty("kind").GetString());
            Assert.Equal(truth.Before.ToString("yyyy-MM-dd"), p.GetProperty("before").GetString());
            Assert.Equal(truth.After.ToString("yyyy-MM-dd"), p.GetProperty("after").GetString());
            Assert.Equal(truth.AreaSquareMetres, p.GetProperty("area_m2").GetDouble(), 1e-3);
        }
    }

    [Fact]
    public void GeoJSON_carries_the_acquisitions_as_a_foreign_member()
    {
        using var doc = JsonDocument.Parse(_json.Value);
        var acquisitions = doc.RootElement.GetProperty("acquisitions").EnumerateArray().ToArray();
        Assert.Equal(Plan.Acquisitions.Count, acquisitions.Length);
        foreach (var (json, a) in acquisitions.Zip(Plan.Acquisitions))
        {
            Assert.Equal(a.Index, json.GetProperty("index").GetInt32());
            Assert.Equal(a.ShiftXPixels, json.GetProperty("shift_x_px").GetDouble());
            Assert.Equal(a.ShiftYPixels, json.GetProperty("shift_y_px").GetDouble());
            Assert.Equal(a.Sensor, json.GetProperty("sensor").GetString());
            Assert.Equal(a.AcquiredUtc, json.GetProperty("acquired_utc").GetDateTime().ToUniversalTime());
            var cover = json.GetProperty("cloud_cover_percent");
            if (a.CloudCoverPercent is { } c)
            {
                Assert.Equal(c, cover.GetDouble());
            }
            else
            {
                Assert.Equal(JsonValueKind.Null, cover.ValueKind);
            }
        }
    }

    [Fact]
    public void GeoJSON_is_WGS84_lon_lat_with_counter_clockwise_shells()
    {
        using var doc = JsonDocument.Parse(_json.Value);
        foreach (var feature in doc.RootElement.GetProperty("features").EnumerateArray())
        {
            var geometry = feature.GetProperty("geometry");
            var polygons = geometry.GetProperty("type").GetString() switch
            {
                "Polygon" => [geometry.GetProperty("coordinates")],
                "MultiPolygon" => geometry.GetProperty("coordinates").EnumerateArray().ToArray(),
                var other => throw new Xunit.Sdk.XunitException($"unexpected geometry type {other}"),
            };
            foreach (var polygon in polygons)
            {
                var shell = polygon[0].EnumerateArray().Select(p => (Lon: p[0].GetDouble(), Lat: p[1].GetDouble())).ToArray();
                Assert.All(shell, p =>
                {
                    Assert.InRange(p.Lon, 127.48, 127.52);
                    Assert.InRange(p.Lat, 39.91, 39.95);
                });
                Assert.Equal(shell[0], shell[^1]);
                double twiceArea = 0;
                for (int i = 0; i < shell.Length - 1; i++)
                {
                    twiceArea += shell[i].Lon * shell[i + 1].Lat - shell[i + 1].Lon * shell[i].Lat;
                }

                Assert.True(twiceArea > 0, "RFC 7946 wants exterior rings counter-clockwise");
            }
        }
    }

    [Fact]
    public void GeoJSON_parses_with_NetTopologySuite_and_keeps_geometries()
    {
        var options = new JsonSerializerOptions();
        options.Converters.Add(new GeoJsonConverterFactory());
        var collection = JsonSerializer.Deserialize<FeatureCollection>(_json.Value, options);
        Assert.NotNull(collection);
        Assert.Equal(Plan.Objects.Count + Plan.Changes.Count, collection.Count);

        var hall = collection.Single(f => (string)f.Attributes["id"] == "hall-1");
        Assert.Equal(TruthClasses.AssemblyHall, hall.Attributes["class"]);
        var polygon = Assert.IsType<Polygon>(hall.Geometry);
        // Back to UTM through the forward projection: the footprint comes back to within millimetres.
        using var wgs84 = SiteWatch.Gdal.SpatialReference.Wgs84();
        using var utm = SiteWatch.Gdal.SpatialReference.FromEpsg(DemoPlan.Epsg);
        using var toUtm = new SiteWatch.Gdal.CoordinateTransform(wgs84, utm);
        var corners = polygon.Shell.Coordinates.Select(c => toUtm.Transform(c.X, c.Y)).Select(p => (Easting: p.X, Northing: p.Y)).ToArray();
        var truth = DemoScenes.Object("hall-1").FootprintUtm.EnvelopeInternal;
        Assert.Equal(truth.MinX, corners.Min(c => c.Easting), 0.01);
        Assert.Equal(truth.MaxX, corners.Max(c => c.Easting), 0.01);
        Assert.Equal(truth.MinY, corners.Min(c => c.Northing), 0.01);
        Assert.Equal(truth.MaxY, corners.Max(c => c.Northing), 0.01);
    }

    [Fact]
    public void To_GeoJSON_uses_the_given_projection()
    {
        // A deliberately fake projection must be what ends up in the file.
        string json = GroundTruthWriter.ToGeoJson(Plan, (e, n) => (e / 1e6, n / 1e6));
        using var doc = JsonDocument.Parse(json);
        var first = doc.RootElement.GetProperty("features")[0].GetProperty("geometry").GetProperty("coordinates")[0][0];
        Assert.InRange(first[0].GetDouble(), 0.3, 0.4);
        Assert.InRange(first[1].GetDouble(), 4.4, 4.5);
        Assert.Throws<ArgumentNullException>(() => GroundTruthWriter.ToGeoJson(Plan, null!));
    }
}
