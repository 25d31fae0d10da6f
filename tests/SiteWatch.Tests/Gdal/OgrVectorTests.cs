using SiteWatch.Gdal;

namespace SiteWatch.Tests.Gdal;

public class OgrVectorTests
{
    private static readonly VectorField[] Fields =
    [
        new("name", VectorFieldType.String),
        new("count", VectorFieldType.Integer64),
        new("area_m2", VectorFieldType.Real),
        new("observed_utc", VectorFieldType.DateTime),
        new("day", VectorFieldType.Date),
    ];

    private static VectorFeature Feature(int i) => new()
    {
        Wkb = VectorGeometry.WkbFromWkt($"POLYGON ((127.49 39.93, 127.491 39.93, 127.491 39.931, 127.49 39.93{i}, 127.49 39.93))"),
        Values = new Dictionary<string, object?>
        {
            ["name"] = $"roof {i} – Ünïcode",
            ["count"] = 3_000_000_000L + i,
            ["area_m2"] = 1234.5 + i,
            ["observed_utc"] = new DateTime(2024, 3, 14, 1, 48, 14, 250, DateTimeKind.Utc).AddDays(i),
            ["day"] = i == 1 ? null : new DateOnly(2024, 10, 15),
        },
    };

    [Theory]
    [InlineData("GPKG", "out.gpkg")]
    [InlineData("FlatGeobuf", "out.fgb")]
    [InlineData("GeoJSON", "out.geojson")]
    public void Features_round_trip_with_types_dates_and_nulls(string driver, string file)
    {
        using var dir = new TempDir();
        var path = dir.File(file);
        using (var ds = VectorDataset.Create(path, driver))
        {
            using var wgs84 = SpatialReference.Wgs84();
            var layer = ds.CreateLayer("objects", wgs84, VectorGeometryType.Polygon, Fields);
            Assert.Equal(3, layer.AddRange(Enumerable.Range(0, 3).Select(Feature)));
            ds.Close();
        }

        using var read = VectorDataset.Open(path);
        var back = Assert.Single(read.Layers);
        Assert.Equal(3, back.FeatureCount);
        Assert.Equal(VectorGeometryType.Polygon, back.GeometryType);
        // FlatGeobuf's spatial index reorders features: match them by name.
        var features = back.Features().OrderBy(f => (string)f.Values["name"]!, StringComparer.Ordinal).ToList();
        for (var i = 0; i < 3; i++)
        {
            var expected = Feature(i);
            var v = features[i].Values;
            Assert.Equal(expected.Values["name"], v["name"]);
            Assert.Equal(3_000_000_000L + i, Convert.ToInt64(v["count"]));
            Assert.Equal(1234.5 + i, Convert.ToDouble(v["area_m2"]), 9);
            var when = Assert.IsType<DateTime>(v["observed_utc"]);
            Assert.Equal(DateTimeKind.Utc, when.Kind);
            Assert.Equal((DateTime)expected.Values["observed_utc"]!, when);
            if (i == 1)
            {
                Assert.Null(v["day"]);
            }
            else
            {
                Assert.Equal(new DateTime(2024, 10, 15), Assert.IsType<DateTime>(v["day"]).Date);
            }
            Assert.Equal(VectorGeometry.WktFromWkb(expected.Wkb!), VectorGeometry.WktFromWkb(features[i].Wkb!));
        }
    }

    [Fact]
    public void Bad_geometry_unknown_field_and_missing_driver_are_clear_errors()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<GdalException>(() => VectorGeometry.WkbFromWkt("POLYGON ((1 2, 3"));
        Assert.Contains("not a valid WKT geometry", e.Message);
        Assert.Throws<GdalException>(() => VectorDataset.Create(dir.File("x.abc"), "NoSuchDriver"));
        using var ds = VectorDataset.Create(dir.File("x.gpkg"), "GPKG");
        var layer = ds.CreateLayer("l", null, VectorGeometryType.Point, [new VectorField("a", VectorFieldType.String)]);
        var unknown = Assert.Throws<GdalException>(() => layer.Add(new VectorFeature { Values = new Dictionary<string, object?> { ["b"] = "x" } }));
        Assert.Contains("has no field 'b'", unknown.Message);
        var wkb = Assert.Throws<GdalException>(() => layer.Add(new VectorFeature { Wkb = [1, 2, 3] }));
        Assert.Contains("not a valid WKB geometry", wkb.Message);
        Assert.Equal(0, layer.FeatureCount);
        var missing = Assert.Throws<GdalException>(() => VectorDataset.Open(dir.File("nope.gpkg")));
        Assert.Contains("file not found", missing.Message);
        File.WriteAllText(dir.File("text.gpkg"), "hello");
        Assert.Throws<GdalException>(() => VectorDataset.Open(dir.File("text.gpkg")));
    }
}
