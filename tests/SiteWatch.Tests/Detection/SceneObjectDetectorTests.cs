using NetTopologySuite.Geometries;
using SiteWatch.Core;
using SiteWatch.Core.Detection;
using SiteWatch.Demo.Models;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Detection;

public class SceneObjectDetectorTests
{
    private const double OriginX = 543_000, OriginY = 4_420_000;

    /// <summary>A 128-pixel model that reports one 20 x 10 "vehicle" at (64, 64) of every tile.</summary>
    private static DetectorModel TileCentreModel(TempDir dir) =>
        DetectorModel.Load(TestModels.Write(dir.File("centre.onnx"),
            TestModels.Constant([[64, 64, 20, 10, 0.9f, 0.05f]], inputSize: 128, metadata: TestModels.Metadata("{0: 'vehicle', 1: 'freight-car'}", "detect", 128))));

    [Fact]
    public void Tiles_overlap_and_the_last_ones_end_at_the_raster_edge()
    {
        var tiles = SceneObjectDetector.Tiles(300, 200, 128, 128, 0.2).ToList();
        Assert.Equal([0, 102, 172], tiles.Select(t => t.Column).Distinct());
        Assert.Equal([0, 72], tiles.Select(t => t.Row).Distinct());
        Assert.All(tiles, t => Assert.Equal((128, 128), (t.Width, t.Height)));
        Assert.Equal([new RasterWindow(0, 0, 100, 50)], SceneObjectDetector.Tiles(100, 50, 128, 128, 0.2));
    }

    [Fact]
    public void Every_tile_runs_and_detections_are_georeferenced_through_the_geotransform()
    {
        using var dir = new TempDir();
        var scene = Rasters.WriteUtmScene(dir.File("scene.tif"), 300, 200, gsd: 0.5, originX: OriginX, originY: OriginY);
        using var model = TileCentreModel(dir);
        var result = SceneObjectDetector.Detect(scene, model, new SceneDetectionOptions());

        Assert.Equal(6, result.TilesRun);
        Assert.Equal(0, result.TilesSkipped);
        Assert.Equal(6, result.Detections.Count);
        Assert.Equal(6, result.CountsByClass["vehicle"]);
        Assert.Equal(0, result.CountsByClass["freight-car"]);
        Assert.Equal("EPSG:32652", result.Crs);
        Assert.Equal(300 * 200 * 0.25 / 1e6, result.ScannedSquareKilometres, 9);
        Assert.True(result.InferenceSeconds > 0 && result.InferenceSeconds <= result.TotalSeconds);

        // The tile at column 172, row 72 puts its vehicle at pixel (236, 136): 0.5 m pixels from the origin.
        var d = Assert.Single(result.Detections, x => Math.Abs(x.Pixel.CentreX - 236) < 1e-9 && Math.Abs(x.Pixel.CentreY - 136) < 1e-9);
        Assert.Equal(OriginX + 118, d.CentreX, 6);
        Assert.Equal(OriginY - 68, d.CentreY, 6);
        Assert.Equal(50, d.AreaSquareMetres, 6); // 20 x 10 pixels of 0.25 m²
        Assert.Equal(90, d.OrientationDegrees, 6); // long axis east-west
        var env = d.MapPolygon.EnvelopeInternal;
        Assert.Equal((OriginX + 113, OriginX + 123, OriginY - 70.5, OriginY - 65.5), (env.MinX, env.MaxX, env.MinY, env.MaxY));
        Assert.Equal(32652, d.MapPolygon.SRID);
        Assert.Equal(4326, d.Wgs84Polygon.SRID);
        var c = d.Wgs84Polygon.Centroid;
        Assert.InRange(c.X, 129.4, 129.6); // UTM 52N, 43 km east of its central meridian (129 E)
        Assert.InRange(c.Y, 39.8, 40.0);

        var geojson = System.Text.Json.JsonDocument.Parse(result.ToGeoJson()).RootElement;
        Assert.Equal("FeatureCollection", geojson.GetProperty("type").GetString());
        var props = geojson.GetProperty("features")[0].GetProperty("properties");
        Assert.Equal("vehicle", props.GetProperty("class").GetString());
        Assert.Equal(50, props.GetProperty("area_m2").GetDouble(), 6);
        Assert.Equal(90, props.GetProperty("orientation_deg").GetDouble(), 6);
    }

    [Fact]
    public void An_aoi_skips_tiles_outside_it_and_drops_detections_centred_outside()
    {
        using var dir = new TempDir();
        var scene = Rasters.WriteUtmScene(dir.File("scene.tif"), 300, 200, gsd: 1, originX: OriginX, originY: OriginY);
        using var model = TileCentreModel(dir);
        // The western 120 m: tiles starting at columns 0 and 102 meet it; only vehicles at x = 64 lie inside.
        var f = new GeometryFactory(new PrecisionModel(), 32652);
        var aoi = f.CreatePolygon([new(OriginX, OriginY), new(OriginX + 120, OriginY), new(OriginX + 120, OriginY - 200), new(OriginX, OriginY - 200), new(OriginX, OriginY)]);
        var result = SceneObjectDetector.Detect(scene, model, new SceneDetectionOptions { Aoi = aoi });
        Assert.Equal(4, result.TilesRun);
        Assert.Equal(2, result.TilesSkipped);
        Assert.Equal(2, result.Detections.Count);
        Assert.All(result.Detections, d => Assert.Equal(64, d.Pixel.CentreX, 9));
        Assert.Equal(120 * 200 / 1e6, result.ScannedSquareKilometres, 9);
    }

    /// <summary>
    /// A 128-pixel model that reports one box at (64, 64) whose width is 100 times the sum of the input's three channel
    /// means: any change to a tile's scaled values changes it. Each mean is summed on one thread (a whole-tensor
    /// ReduceSum is split across ONNX Runtime's threads in an order that varies from run to run, and with it the last bits).
    /// </summary>
    private static string MeanValueModel(TempDir dir, double? gsd) =>
        TestModels.OneBox(dir.File("mean.onnx"), gsd, b =>
        {
            b.AddInitializer("hundred", [1], [100f]);
            b.AddNode("GlobalAveragePool", ["images"], ["means"]);
            b.AddNode("ReduceSum", ["means"], ["sum"], OnnxAttribute.Int("keepdims", 0));
            b.AddNode("Mul", ["sum", "hundred"], ["width"]);
        });

    /// <summary>A 4-band uint16 scene of random values, so that a percentile stretch depends on which pixels it samples.</summary>
    private static string NoiseScene(string path, int width, int height, double gsd, params string[] options)
    {
        var profile = new RasterProfile(width, height, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.NorthUp(OriginX, OriginY, gsd),
            Crs = "EPSG:32652",
            NoData = 0,
            BandDescriptions = ["blue", "green", "red", "nir"],
        };
        using var raster = RasterDataset.Create(path, profile, creationOptions: ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "INTERLEAVE=PIXEL", .. options]);
        var rng = new Random(11);
        var data = new ushort[width * height];
        for (var b = 1; b <= 4; b++)
        {
            foreach (ref var v in data.AsSpan())
            {
                v = (ushort)rng.Next(0, 20_000); // some nodata (0) too
            }
            raster.Write<ushort>(b, new RasterWindow(0, 0, width, height), data);
        }
        return path;
    }

    [Theory]
    [InlineData(2048, 1100, null)] // the stretch samples every other pixel (an integer step)
    [InlineData(1300, 1250, null)] // a fractional step
    [InlineData(1300, 1250, 2.0)]  // tiles shrunk to the model's GSD
    public void A_compressed_scene_read_into_memory_gives_the_same_detections_as_the_same_pixels_read_from_file(int width, int height, double? modelGsd)
    {
        // A compressed GeoTIFF is decompressed into memory before the tiles run, and its stretch is sampled there; an
        // uncompressed one is read tile by tile from the file. Same pixels: the same stretch, tiles and boxes to the bit.
        using var dir = new TempDir();
        var compressed = NoiseScene(dir.File("deflate.tif"), width, height, 1.0, "COMPRESS=DEFLATE");
        var plain = NoiseScene(dir.File("plain.tif"), width, height, 1.0, "COMPRESS=NONE");
        using var model = DetectorModel.Load(MeanValueModel(dir, modelGsd));
        var f = new GeometryFactory(new PrecisionModel(), 32652);
        var aoi = f.CreatePolygon([new(OriginX + 300, OriginY - 200), new(OriginX + 900, OriginY - 200), new(OriginX + 900, OriginY - 700), new(OriginX + 300, OriginY - 200)]);
        foreach (var options in new[] { new SceneDetectionOptions(), new SceneDetectionOptions { Aoi = aoi } })
        {
            var fromMemory = SceneObjectDetector.Detect(compressed, model, options);
            var fromFile = SceneObjectDetector.Detect(plain, model, options);
            Assert.True(fromFile.TilesRun > 10);
            Assert.Equal(fromFile.TilesRun, fromMemory.TilesRun);
            Assert.Equal(Boxes(fromFile), Boxes(fromMemory));
        }

        static string[] Boxes(SceneDetections r) =>
            [.. r.Detections.Select(d => FormattableString.Invariant($"{d.Score:R} {d.Pixel.CentreX:R} {d.Pixel.CentreY:R} {d.Pixel.Width:R} {d.Pixel.Height:R}")).Order()];
    }

    [Fact]
    public void A_scene_with_too_few_bands_is_refused()
    {
        using var dir = new TempDir();
        var path = dir.File("grey.tif");
        using (var raster = RasterDataset.Create(path, new RasterProfile(64, 64, 1, RasterDataType.Byte) { GeoTransform = GeoTransform.NorthUp(OriginX, OriginY, 1), Crs = "EPSG:32652" }))
        {
            raster.Write<byte>(1, new RasterWindow(0, 0, 64, 64), new byte[64 * 64]);
        }
        using var model = TileCentreModel(dir);
        var e = Assert.Throws<SiteWatchException>(() => SceneObjectDetector.Detect(path, model, new SceneDetectionOptions()));
        Assert.Contains("grey.tif: has 1 band; the model needs 3 (red, green, blue)", e.Message);
    }

    [Fact]
    public void Bands_are_found_by_name_and_stretched_by_scene_percentiles()
    {
        using var dir = new TempDir();
        var scene = Rasters.WriteUtmScene(dir.File("scene.tif"), 300, 200);
        using var raster = RasterDataset.Open(scene);
        var bands = SceneBands.Select(raster, ["red", "green", "blue"], InputScaling.Auto);
        Assert.Equal([3, 2, 1], bands.BandNumbers); // the file is blue, green, red, nir
        var (low, high) = bands.Ranges[0];
        Assert.InRange(low, 1100, 1200);  // red background 500 + 600 + (0..400), bright square 6300
        Assert.Equal(6300, high);
        var values = new float[] { (float)low, (float)high, 0, 100_000 };
        bands.Scale(0, values, noData: 0);
        Assert.Equal([0f, 1f, 0f, 1f], values);
        Assert.Equal([4, 1, 2], SceneBands.Select(raster, ["nir", "1", "green"], new InputScaling("range", 0, 10_000)).BandNumbers);
        Assert.Contains("no swir band", Assert.Throws<SiteWatchException>(() => SceneBands.Select(raster, ["red", "swir", "blue"], InputScaling.Auto)).Message);
    }

    [Fact]
    public void Duplicate_overlap_removes_a_small_object_boxed_twice_and_keeps_neighbours()
    {
        PixelDetection Box(double cx, double cy, double w, double h, float score, int cls = 0) => new(cls, "vehicle", score, cx, cy, w, h, 0);
        // An 8-pixel vehicle boxed twice, two pixels apart (as the drone model does on enlarged frames): IoU 0.39, so NMS
        // at 0.45 keeps both, while the smaller lies 0.67 inside the larger.
        var best = Box(685.2, 377.5, 8.9, 9.2, 0.88f);
        var twice = Box(683.8, 374.8, 8.0, 7.3, 0.80f);
        Assert.InRange(BoxOverlap.IoU(best, twice), 0.35, 0.45);
        Assert.Equal(2, SceneObjectDetector.MergeAcrossSeams([new(best, false), new(twice, false)], 0.45, 0.5).Count);
        Assert.Equal([best], SceneObjectDetector.MergeAcrossSeams([new(twice, false), new(best, false)], 0.45, 0.5, duplicateOverlap: 0.3));

        // Two vehicles side by side whose loose boxes overlap by a pixel stay two; so do two classes on one spot.
        var left = Box(100, 100, 9, 8, 0.9f);
        var right = Box(108, 100, 9, 8, 0.8f);
        Assert.Equal(2, SceneObjectDetector.MergeAcrossSeams([new(left, false), new(right, false)], 0.45, 0.5, duplicateOverlap: 0.3).Count);
        Assert.Equal(2, SceneObjectDetector.MergeAcrossSeams([new(best, false), new(twice with { ClassId = 1 }, false)], 0.45, 0.5, duplicateOverlap: 0.3).Count);

        Assert.Contains("duplicate overlap 1.5 must lie between 0 and 1", Assert.Throws<SiteWatchException>(() => new SceneDetectionOptions { DuplicateOverlap = 1.5 }.Validate()).Message);
        Assert.Contains("tile overlap 0.95", Assert.Throws<SiteWatchException>(() => new SceneDetectionOptions { TileOverlap = 0.95 }.Validate()).Message);
    }

    [Fact]
    public void Seam_merge_keeps_the_uncut_detection_and_joins_two_cut_halves()
    {
        PixelDetection Box(double cx, double w, float score) => new(0, "car", score, cx, 50, w, 10, 0);
        // Whole car seen by one tile; its right half, cut by the other tile's edge, scores higher.
        var whole = Box(100, 20, 0.8f);
        var half = Box(105, 10, 0.9f);
        var merged = SceneObjectDetector.MergeAcrossSeams([new(whole, false), new(half, true)], 0.45, 0.5);
        Assert.Equal([whole], merged);

        // A freight train cut by both tiles' edges: the two parts become one box spanning both.
        var left = Box(95, 40, 0.7f);
        var right = Box(105, 40, 0.6f);
        var joined = Assert.Single(SceneObjectDetector.MergeAcrossSeams([new(left, true), new(right, true)], 0.45, 0.5));
        Assert.Equal((100.0, 50.0, 0.7f), (joined.CentreX, joined.Width, joined.Score));

        // Two uncut neighbours are two objects; another class is never merged.
        Assert.Equal(2, SceneObjectDetector.MergeAcrossSeams([new(Box(100, 20, 0.8f), false), new(Box(112, 20, 0.7f), false)], 0.45, 0.5).Count);
        Assert.Equal(2, SceneObjectDetector.MergeAcrossSeams([new(whole, false), new(half with { ClassId = 1 }, true)], 0.45, 0.5).Count);
    }
}
