using NetTopologySuite.Geometries;
using SiteWatch.Core;
using SiteWatch.Core.Change;
using SiteWatch.Core.Geo;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Change;

public class ChangeObjectTests
{
    /// <summary>
    /// Two dates of textured ground (UTM 52N, 1 m): a bright 30 x 20 m roof appears in AFTER, a bright 12 x 12 m
    /// structure present in BEFORE is gone in AFTER, and AFTER is radiometrically different (gain and offset).
    /// </summary>
    internal static (string Before, string After) WritePair(TempDir dir)
    {
        double Value(bool after, int b, int r, int c, Random random)
        {
            // Soil with texture; NIR a little higher.
            double v = 1200 + 150 * b + 120 * Math.Sin(c / 7.0) * Math.Cos(r / 9.0) + random.Next(-40, 41);
            var newRoof = after && c is >= 120 and < 150 && r is >= 60 and < 80;
            var oldTower = !after && c is >= 40 and < 52 && r is >= 130 and < 142;
            if (newRoof || oldTower)
            {
                v = 5200 + 100 * b + random.Next(-40, 41);
            }
            // A different sun and sensor on the later date: MAD must not call this change.
            return after ? 1.1 * v + 80 : v;
        }
        return (WriteScene(dir, "before.tif", 1, (b, r, c, random) => Value(false, b, r, c, random)),
            WriteScene(dir, "after.tif", 2, (b, r, c, random) => Value(true, b, r, c, random)));
    }

    /// <summary>A 200 x 200 px, 4-band (blue, green, red, NIR) uint16 scene at 1 m in UTM 52N; <paramref name="value"/> gives each pixel by band, row and column.</summary>
    private static string WriteScene(TempDir dir, string name, int seed, Func<int, int, int, Random, double> value, int size = 200)
    {
        var profile = new RasterProfile(size, size, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.NorthUp(371_000, 4_421_000, 1),
            Crs = "EPSG:32652",
            NoData = 0,
            BandDescriptions = ["blue", "green", "red", "nir"],
        };
        var path = dir.File(name);
        using var raster = RasterDataset.Create(path, profile);
        var random = new Random(seed);
        var data = new ushort[size * size];
        for (var b = 0; b < 4; b++)
        {
            for (var r = 0; r < size; r++)
            {
                for (var c = 0; c < size; c++)
                {
                    data[r * size + c] = (ushort)Math.Clamp(value(b, r, c, random), 1, 60000);
                }
            }
            raster.Write<ushort>(b + 1, new RasterWindow(0, 0, size, size), data);
        }
        return path;
    }

    [Fact]
    public void Change_rasters_carry_overviews_so_zoomed_out_map_tiles_read_little_and_the_masks_levels_keep_its_classes()
    {
        using var dir = new TempDir();
        double Value(bool after, int b, int r, int c, Random random) =>
            after && c is >= 300 and < 360 && r is >= 200 and < 240 ? 5200 + 100 * b : 1200 + 150 * b + 120 * Math.Sin(c / 7.0) * Math.Cos(r / 9.0) + random.Next(-40, 41);
        var before = WriteScene(dir, "before.tif", 1, (b, r, c, random) => Value(false, b, r, c, random), size: 600);
        var after = WriteScene(dir, "after.tif", 2, (b, r, c, random) => Value(true, b, r, c, random), size: 600);
        using var pair = RasterPair.Open(before, after);
        var outcome = ChangePipeline.Run(pair, SpectralBands.Identify(["blue", "green", "red", "nir"], [null, null, null, null]), new ChangeRunOptions(), dir.File("out"));
        using var magnitude = RasterDataset.Open(outcome.Files.Magnitude);
        using var mask = RasterDataset.Open(outcome.Files.Mask);
        // 600 px: levels of 300 and 150 px (the last one under 256 px a side).
        Assert.Equal(2, magnitude.OverviewCount);
        Assert.Equal(2, mask.OverviewCount);
        // A decimated read served from the smallest level holds only the mask's classes, and the new roof.
        var small = new byte[150 * 150];
        mask.ReadDecimated<byte>(1, new RasterWindow(0, 0, 600, 600), 150, 150, small);
        Assert.All(small, v => Assert.True(v is 0 or 1 or ChangeDetector.MaskNoData, $"mask level value {v}"));
        Assert.Contains((byte)1, small);
    }

    [Fact]
    public void Appeared_and_removed_objects_are_found_measured_and_told_apart()
    {
        using var dir = new TempDir();
        var (before, after) = WritePair(dir);
        using var pair = RasterPair.Open(before, after);
        var bands = SpectralBands.Identify(["blue", "green", "red", "nir"], [null, null, null, null]);
        var outcome = ChangePipeline.Run(pair, bands, new ChangeRunOptions(), dir.File("out"));

        var roof = Assert.Single(outcome.Objects, o => o.Kind == ChangeKind.Appeared);
        Assert.InRange(roof.AreaSquareMetres, 30 * 20 * 0.85, 30 * 20 * 1.15);
        Assert.Equal(2 * (30 + 20), roof.PerimeterMetres, 8.0);
        Assert.False(roof.Shadow);
        Assert.True(roof.BrightnessAfter > 2 * roof.BrightnessBefore);
        var tower = Assert.Single(outcome.Objects, o => o.Kind == ChangeKind.Removed);
        Assert.InRange(tower.AreaSquareMetres, 144 * 0.8, 144 * 1.2);
        // The roof's centre, back in lon/lat, lies where it was drawn.
        using var wgs84 = SpatialReference.Wgs84();
        using var utm = SpatialReference.FromEpsg(32652);
        using var toUtm = new CoordinateTransform(wgs84, utm);
        var (x, y) = toUtm.Transform(roof.CentroidLon, roof.CentroidLat);
        Assert.Equal(371_000 + 135, x, 1.0);
        Assert.Equal(4_421_000 - 70, y, 1.0);
        Assert.All(outcome.Objects, o => Assert.InRange(o.Confidence, 0, 1));

        foreach (var file in new[] { "change_magnitude.tif", "change_mask.tif", "changes.geojson", "quicklook.png", "summary.json" })
        {
            Assert.True(File.Exists(Path.Combine(dir.File("out"), file)), file);
        }
        var geojson = AoiReader.GeoJsonOptions;
        var collection = System.Text.Json.JsonSerializer.Deserialize<NetTopologySuite.Features.FeatureCollection>(File.ReadAllText(outcome.Files.Objects), geojson)!;
        Assert.Equal(outcome.Objects.Count, collection.Count);
        Assert.Equal("appeared", collection.Single(f => Convert.ToInt64(f.Attributes["id"], System.Globalization.CultureInfo.InvariantCulture) == roof.Id).Attributes["kind"]);
        using var png = SkiaSharp.SKBitmap.Decode(outcome.Files.Quicklook);
        Assert.True(png.Width > 3 * 200 && png.Height > 200);
    }

    [Fact]
    public void Polygonizer_outlines_regions_on_pixel_edges()
    {
        var profile = new RasterProfile(50, 40, 1, RasterDataType.Byte) { GeoTransform = GeoTransform.NorthUp(1000, 2000, 2), Crs = "EPSG:32652" };
        using var raster = RasterDataset.CreateInMemory(profile);
        var data = new byte[50 * 40];
        for (var r = 5; r < 15; r++)
        {
            for (var c = 10; c < 30; c++)
            {
                data[r * 50 + c] = 1;
            }
        }
        data[30 * 50 + 40] = 1;
        data[31 * 50 + 41] = 1; // diagonal neighbour: one region when 8-connected
        raster.Write<byte>(1, new RasterWindow(0, 0, 50, 40), data);
        var regions = Polygonizer.Polygonize(raster);
        Assert.Equal(2, regions.Count);
        var reader = new NetTopologySuite.IO.WKBReader();
        var areas = regions.Select(r => reader.Read(r.Wkb).Area).Order().ToArray();
        Assert.Equal(2 * 4.0, areas[0], 6);
        Assert.Equal(20 * 10 * 4.0, areas[1], 6);
        Assert.Equal(3, Polygonizer.Polygonize(raster, eightConnected: false).Count);
    }

    [Fact]
    public void Footprint_ratio_and_distances_are_in_ground_metres()
    {
        var f = new GeometryFactory(new PrecisionModel(), 32652);
        var hall = f.ToGeometry(new Envelope(0, 180, 0, 90));
        var building = f.ToGeometry(new Envelope(300, 444, 0, 72));
        Assert.Equal(0.64, Measurements.FootprintRatio(building, hall), 9);
        Assert.Equal(120, Measurements.DistanceMetres(hall, building), 9);

        // The same building in lon/lat is measured in its UTM zone.
        var wgs = GeometryProjection.Transform(f.ToGeometry(new Envelope(371_000, 371_144, 4_421_000, 4_421_072)), 32652, 4326);
        Assert.Equal(144 * 72, Measurements.AreaSquareMetres(wgs), 1.0);
    }

    [Fact]
    public void Pairs_on_different_grids_or_bands_are_refused()
    {
        using var dir = new TempDir();
        var a = Rasters.WriteUtmScene(dir.File("a.tif"), 100, 100);
        var b = Rasters.WriteUtmScene(dir.File("b.tif"), 120, 100);
        var e = Assert.Throws<SiteWatchException>(() => RasterPair.Open(a, b));
        Assert.Contains("share one grid", e.Message);
        var c = Rasters.WriteUtmScene(dir.File("c.tif"), 100, 100, originX: 543_010);
        Assert.Contains("geotransform", Assert.Throws<SiteWatchException>(() => RasterPair.Open(a, c)).Message);
        Assert.Contains("no band 7", Assert.Throws<SiteWatchException>(() => RasterPair.Open(a, a, [1, 7])).Message);
    }

    /// <summary>
    /// A field that greens up (soil, then leaves: NIR up, red down), a green patch cleared to bright soil, and a new
    /// roof: the field is vegetation, the clearing and the roof keep their structural kinds.
    /// </summary>
    [Fact]
    public void Green_up_is_vegetation_while_clearing_and_a_new_roof_are_not()
    {
        using var dir = new TempDir();
        ushort[] soil = [1200, 1350, 1500, 1650], leaves = [300, 700, 300, 5500], bright = [2000, 2100, 2200, 2300], roofTop = [3000, 3100, 3200, 3300];
        string Write(string name, bool after) => WriteScene(dir, name, after ? 2 : 1, (b, r, c, random) =>
        {
            var field = c is >= 20 and < 60 && r is >= 20 and < 50;
            var clearing = c is >= 120 and < 150 && r is >= 130 and < 160;
            var newRoof = after && c is >= 120 and < 150 && r is >= 40 and < 60;
            var spectrum = field ? (after ? leaves : soil) : clearing ? (after ? bright : leaves) : newRoof ? roofTop : soil;
            return spectrum[b] + 100 * Math.Sin(c / 7.0) * Math.Cos(r / 9.0) + random.Next(-40, 41);
        });
        using var pair = RasterPair.Open(Write("before.tif", false), Write("after.tif", true));
        var bands = SpectralBands.Identify(["blue", "green", "red", "nir"], [null, null, null, null]);
        var outcome = ChangePipeline.Run(pair, bands, new ChangeRunOptions { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Cva } }, dir.File("out"));

        static bool Inside(ChangeObject o, double x0, double x1, double y0, double y1)
        {
            var c = o.Footprint.Centroid;
            return c.X > 371_000 + x0 && c.X < 371_000 + x1 && c.Y < 4_421_000 - y0 && c.Y > 4_421_000 - y1;
        }
        var field = Assert.Single(outcome.Objects, o => Inside(o, 20, 60, 20, 50));
        Assert.Equal(ChangeKind.Vegetation, field.Kind);
        Assert.True(field.NdviAfter > 0.5 && field.NdviBefore < 0.1);
        var clearing = Assert.Single(outcome.Objects, o => Inside(o, 120, 150, 130, 160));
        Assert.NotEqual(ChangeKind.Vegetation, clearing.Kind);
        var roof = Assert.Single(outcome.Objects, o => Inside(o, 120, 150, 40, 60));
        Assert.Equal(ChangeKind.Appeared, roof.Kind);
        Assert.Equal(field.AreaSquareMetres, outcome.Summary.GetProperty("vegetation").GetProperty("area_m2").GetDouble(), 1);
    }
}
