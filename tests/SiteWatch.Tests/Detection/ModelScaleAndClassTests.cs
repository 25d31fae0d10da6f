using SiteWatch.Core;
using SiteWatch.Core.Detection;
using SiteWatch.Gdal;
using SiteWatch.Demo.Models;

namespace SiteWatch.Tests.Detection;

/// <summary>Tiles read at the model's ground sample distance, and model classes reported under the user's names.</summary>
public class ModelScaleAndClassTests
{
    /// <summary>
    /// A 128-pixel model that reports one box at (64, 64), 10 pixels high, as wide as the side of the bright square it
    /// sees (the square root of the input's mean channel sum): what the model saw, in its own pixels.
    /// </summary>
    private static string SquareSideModel(TempDir dir, double? gsd) =>
        TestModels.OneBox(dir.File("square.onnx"), gsd, b =>
        {
            b.AddInitializer("three", [1], [3f]);
            b.AddNode("ReduceSum", ["images"], ["sum"], OnnxAttribute.Int("keepdims", 0));
            b.AddNode("Div", ["sum", "three"], ["area"]);
            b.AddNode("Sqrt", ["area"], ["width"]);
        });

    /// <summary>An 8-bit RGB scene, black but for a white square of <paramref name="side"/> pixels at the top left + 40.</summary>
    private static string SquareScene(string path, int size, double gsd, int side)
    {
        var profile = new RasterProfile(size, size, 3, RasterDataType.Byte)
        {
            GeoTransform = GeoTransform.NorthUp(543_000, 4_420_000, gsd),
            Crs = "EPSG:32652",
            BandDescriptions = ["red", "green", "blue"],
        };
        using var raster = RasterDataset.Create(path, profile);
        var data = new byte[size * size];
        for (var r = 40; r < 40 + side; r++)
        {
            data.AsSpan(r * size + 40, side).Fill(255);
        }
        for (var band = 1; band <= 3; band++)
        {
            raster.Write<byte>(band, new RasterWindow(0, 0, size, size), data);
        }
        return path;
    }

    [Fact]
    public void A_finer_scene_is_read_at_the_models_gsd_and_boxes_come_back_in_scene_pixels()
    {
        using var dir = new TempDir();
        // 0.5 m scene, 1 m model: one tile of 256 scene pixels is the model's 128; the 40-pixel square is 20 to the model.
        var scene = SquareScene(dir.File("fine.tif"), 256, 0.5, 40);
        using var model = DetectorModel.Load(SquareSideModel(dir, gsd: 1.0));
        Assert.Equal(1.0, model.GroundSampleDistance);

        var result = SceneObjectDetector.Detect(scene, model, new SceneDetectionOptions());
        Assert.Equal(0.5, result.SceneGsd!.Value, 9);
        Assert.Equal(2, result.ResampleFactor, 9);
        Assert.Equal(1, result.TilesRun);
        var d = Assert.Single(result.Detections).Pixel;
        Assert.Equal(40, d.Width, 3); // 20 model pixels seen, 40 scene pixels reported: the square's true side
        Assert.Equal(20, d.Height, 3); // 10 model pixels
        Assert.Equal((128, 128), (d.CentreX, d.CentreY));
        Assert.Equal(40 * 20 * 0.25, result.Detections[0].AreaSquareMetres, 3);
    }

    [Fact]
    public void Without_resampling_or_within_the_tolerance_the_scene_is_read_as_it_is()
    {
        using var dir = new TempDir();
        var scene = SquareScene(dir.File("fine.tif"), 128, 0.5, 40);
        using var model = DetectorModel.Load(SquareSideModel(dir, gsd: 1.0));
        var off = SceneObjectDetector.Detect(scene, model, new SceneDetectionOptions { ResampleToModelGsd = false });
        Assert.Equal(1, off.ResampleFactor);
        Assert.Equal((40, 10), (off.Detections[0].Pixel.Width, off.Detections[0].Pixel.Height));

        // 0.9 m against 1 m: within 20 %, read as it is.
        var close = SquareScene(dir.File("close.tif"), 128, 0.9, 40);
        var near = SceneObjectDetector.Detect(close, model, new SceneDetectionOptions());
        Assert.Equal(1, near.ResampleFactor);
        Assert.Equal(40, near.Detections[0].Pixel.Width, 3);
    }

    [Fact]
    public void A_coarser_scene_is_enlarged_to_the_model_in_smaller_windows()
    {
        using var dir = new TempDir();
        // 2 m scene, 1 m model: 100 scene pixels become 200 model pixels, more than one 128 input: tiles of 64 scene pixels.
        var scene = SquareScene(dir.File("coarse.tif"), 100, 2.0, 20);
        using var model = DetectorModel.Load(SquareSideModel(dir, gsd: 1.0));
        var result = SceneObjectDetector.Detect(scene, model, new SceneDetectionOptions { TileOverlap = 0 });
        Assert.Equal(0.5, result.ResampleFactor, 9);
        Assert.Equal(4, result.TilesRun); // windows at 0 and 36 in each direction
        // The tile at (0, 0) sees all of the square (scene 40..60 of 0..64), enlarged to 40 model pixels.
        var d = Assert.Single(result.Detections, x => x.Pixel.CentreX < 40 && x.Pixel.CentreY < 40).Pixel;
        Assert.Equal(20, d.Width, 1);
        Assert.Equal(5, d.Height, 3);
    }

    [Fact]
    public void A_geographic_scene_has_its_gsd_in_metres_at_its_latitude()
    {
        using var dir = new TempDir();
        var path = dir.File("geo.tif");
        var profile = new RasterProfile(10, 10, 1, RasterDataType.Byte) { GeoTransform = GeoTransform.NorthUp(10, 60.0001, 0.00001), Crs = "EPSG:4326" };
        using (RasterDataset.Create(path, profile))
        {
        }
        using var raster = RasterDataset.Open(path);
        using var crs = raster.OpenCrs()!;
        var gsd = SceneObjectDetector.GroundSampleDistance(raster, raster.GeoTransform!.Value, crs)!.Value;
        // 1e-5 degree: 1.117 m north-south and 0.558 m east-west at 60 N; the geometric mean 0.789 m.
        Assert.InRange(gsd, 0.785, 0.793);
    }

    [Fact]
    public void Model_classes_are_reported_under_mapped_names_merged_before_nms_and_dropped_when_empty()
    {
        using var dir = new TempDir();
        // The same object scored as small-vehicle (0.8) and large-vehicle (0.7); a plane elsewhere.
        var path = TestModels.Write(dir.File("dota.onnx"), TestModels.Constant(
            [[64, 64, 20, 10, 0.8f, 0.1f, 0.1f], [65, 64, 20, 10, 0.1f, 0.7f, 0.1f], [20, 20, 10, 10, 0.1f, 0.1f, 0.9f]],
            inputSize: 128, metadata: TestModels.Metadata("{0: 'small-vehicle', 1: 'large-vehicle', 2: 'plane'}", "detect", 128)));
        using var model = DetectorModel.Load(path);
        var image = new float[3 * 128 * 128];

        Assert.Equal(3, model.Detect(image, 128, 128, new DetectorOptions()).Count);
        var map = ClassMapping.Parse("small-vehicle=vehicle, large-vehicle=vehicle, plane=");
        var mapped = model.Detect(image, 128, 128, new DetectorOptions { ClassMap = map });
        var vehicle = Assert.Single(mapped);
        Assert.Equal(("vehicle", 0.8f), (vehicle.ClassName, vehicle.Score));
        Assert.Equal(["vehicle"], model.Classes(new DetectorOptions { ClassMap = map }).Names);

        var e = Assert.Throws<SiteWatchException>(() => model.Detect(image, 128, 128, new DetectorOptions { ClassMap = ClassMapping.Parse("small-vehicel=vehicle") }));
        Assert.Contains("'small-vehicel'", e.Message);
        Assert.Contains("small-vehicle, large-vehicle, plane", e.Message);
        Assert.Throws<SiteWatchException>(() => model.Classes(new DetectorOptions { ClassMap = ClassMapping.Parse("small-vehicle=,large-vehicle=,plane=") }));
        Assert.Contains("MODEL_CLASS=REPORTED_CLASS", Assert.Throws<SiteWatchException>(() => ClassMapping.Parse("vehicle")).Message);
        Assert.Contains("twice", Assert.Throws<SiteWatchException>(() => ClassMapping.Parse("plane=a,plane=b")).Message);
    }

    [Fact]
    public void The_side_car_gives_gsd_and_a_class_map_that_the_callers_map_overrides()
    {
        using var dir = new TempDir();
        var path = TestModels.Write(dir.File("m.onnx"), TestModels.Constant(
            [[64, 64, 20, 10, 0.8f, 0.1f]], inputSize: 128, metadata: TestModels.Metadata("{0: 'small-vehicle', 1: 'ship'}", "detect", 128)));
        File.WriteAllText(DetectorModel.SideCarPath(path), """{ "gsd": 0.3, "class_map": { "small-vehicle": "vehicle", "ship": null } }""");
        using var model = DetectorModel.Load(path);
        Assert.Equal(0.3, model.GroundSampleDistance);
        Assert.Equal(["vehicle"], model.Classes(new DetectorOptions()).Names);
        Assert.Equal("vehicle", Assert.Single(model.Detect(new float[3 * 128 * 128], 128, 128, new DetectorOptions())).ClassName);
        var user = new DetectorOptions { ClassMap = ClassMapping.Parse("small-vehicle=car") };
        Assert.Equal("car", Assert.Single(model.Detect(new float[3 * 128 * 128], 128, 128, user)).ClassName);

        File.WriteAllText(DetectorModel.SideCarPath(path), """{ "gsd": -1 }""");
        Assert.Contains("gsd", Assert.Throws<SiteWatchException>(() => DetectorModel.Load(path)).Message);
        File.WriteAllText(DetectorModel.SideCarPath(path), """{ "class_map": ["vehicle"] }""");
        Assert.Contains("class_map", Assert.Throws<SiteWatchException>(() => DetectorModel.Load(path)).Message);
    }

    /// <summary>
    /// A model may carry its class_map in its own metadata (the default drone detector learns people's shadows as a class
    /// only to tell them apart, and drops it there); a side-car's map wins, and a bad map names the metadata.
    /// </summary>
    [Fact]
    public void The_models_own_metadata_can_drop_a_class_and_a_side_car_overrides_it()
    {
        using var dir = new TempDir();
        var metadata = TestModels.Metadata("{0: 'person', 1: 'shadow'}", "detect", 128);
        metadata["class_map"] = """{"shadow": ""}""";
        var path = TestModels.Write(dir.File("m.onnx"), TestModels.Constant(
            [[64, 64, 4, 4, 0.8f, 0.1f], [70, 70, 4, 4, 0.1f, 0.9f]], inputSize: 128, metadata: metadata));
        using (var model = DetectorModel.Load(path))
        {
            Assert.Equal(["person"], model.Classes(new DetectorOptions()).Names);
            Assert.Equal("person", Assert.Single(model.Detect(new float[3 * 128 * 128], 128, 128, new DetectorOptions())).ClassName);
        }
        File.WriteAllText(DetectorModel.SideCarPath(path), """{ "class_map": { "shadow": "shade" } }""");
        using (var model = DetectorModel.Load(path))
        {
            Assert.Equal(2, model.Detect(new float[3 * 128 * 128], 128, 128, new DetectorOptions()).Count);
        }
        File.Delete(DetectorModel.SideCarPath(path));
        metadata["class_map"] = "[shadow";
        var bad = TestModels.Write(dir.File("bad.onnx"), TestModels.Constant([[64, 64, 4, 4, 0.8f, 0.1f]], inputSize: 128, metadata: metadata));
        Assert.Contains("metadata class_map", Assert.Throws<SiteWatchException>(() => DetectorModel.Load(bad)).Message);
    }

    [Fact]
    public void A_model_states_the_tracker_gates_for_its_scores_and_bad_gates_are_refused()
    {
        using var dir = new TempDir();
        TestModels.Write(dir.File("plain.onnx"), TestModels.Constant([[64, 64, 4, 4, 0.8f]], inputSize: 128, metadata: TestModels.Metadata("{0: 'person'}", "detect", 128)));
        using (var plain = DetectorModel.Load(dir.File("plain.onnx")))
        {
            Assert.Null(plain.TrackHighScore);
            Assert.Null(plain.NewTrackScore);
        }
        string Write(string name, string high, string fresh)
        {
            var metadata = TestModels.Metadata("{0: 'person'}", "detect", 128);
            metadata["track_high_thresh"] = high;
            metadata["new_track_thresh"] = fresh;
            return TestModels.Write(dir.File(name), TestModels.Constant([[64, 64, 4, 4, 0.8f]], inputSize: 128, metadata: metadata));
        }
        using (var gated = DetectorModel.Load(Write("gated.onnx", "0.35", "0.45")))
        {
            Assert.Equal(0.35, gated.TrackHighScore);
            Assert.Equal(0.45, gated.NewTrackScore);
        }
        Assert.Contains("track_high_thresh", Assert.Throws<SiteWatchException>(() => DetectorModel.Load(Write("bad.onnx", "1.5", "0.45"))).Message);
        Assert.Contains("below track_high_thresh", Assert.Throws<SiteWatchException>(() => DetectorModel.Load(Write("inverted.onnx", "0.6", "0.4"))).Message);
    }

    /// <summary>3 planes of a black image but for a white square of <paramref name="side"/> pixels with its top left at (x, y).</summary>
    private static float[] SquareFrame(int width, int height, int x, int y, int side)
    {
        var chw = new float[3 * width * height];
        for (var c = 0; c < 3; c++)
        {
            for (var r = y; r < y + side; r++)
            {
                chw.AsSpan(c * width * height + r * width + x, side).Fill(1f);
            }
        }
        return chw;
    }

    [Fact]
    public void A_finer_frame_is_brought_to_the_models_gsd_and_boxes_come_back_in_frame_pixels()
    {
        using var dir = new TempDir();
        using var model = DetectorModel.Load(SquareSideModel(dir, gsd: 1.0));
        using var detector = new ImageObjectDetector(model);
        // A 0.5 m frame of 256 pixels is the model's 128: one tile, the 40-pixel square 20 to the model.
        var found = detector.Detect(SquareFrame(256, 256, 40, 40, 40), 256, 256, groundSampleDistance: 0.5);
        Assert.Equal(2, detector.LastScale, 9);
        var d = Assert.Single(found);
        Assert.Equal(40, d.Width, 1); // 20 model pixels seen (the resampler keeps the square's area), 40 frame pixels reported
        Assert.Equal(20, d.Height, 3);
        Assert.Equal((128, 128), (d.CentreX, d.CentreY));

        // The same frame with no GSD known is run at its own resolution in 128-pixel tiles, not squeezed into one.
        using var tiled = new ImageObjectDetector(model, new SceneDetectionOptions { TileOverlap = 0 });
        var native = tiled.Detect(SquareFrame(256, 256, 40, 40, 40), 256, 256, groundSampleDistance: null);
        Assert.Equal(1, tiled.LastScale);
        Assert.All(native, x => Assert.True(x.CentreX is 64 or 192 && x.CentreY is 64 or 192, $"({x.CentreX}, {x.CentreY}) is not a tile centre"));
        var first = Assert.Single(native, x => x.CentreX == 64 && x.CentreY == 64);
        Assert.Equal(40, first.Width, 3); // the tile at (0, 0) holds the whole square at full size
    }

    [Fact]
    public void A_frame_smaller_than_the_input_is_one_padded_tile_not_enlarged()
    {
        using var dir = new TempDir();
        using var model = DetectorModel.Load(SquareSideModel(dir, gsd: 1.0));
        using var detector = new ImageObjectDetector(model);
        // 100 x 90 pixels at 1.1 m (within the 20 % tolerance of 1 m): read as it is into the top left of the input.
        var d = Assert.Single(detector.Detect(SquareFrame(100, 90, 10, 10, 30), 100, 90, groundSampleDistance: 1.1));
        Assert.Equal(1, detector.LastScale);
        // The square sits on grey padding, so its side is not what the model reports; the box's place and height are
        // in frame pixels as the model gave them (an enlarged letterbox would map them back to about (50, 45) and 7.8).
        Assert.Equal((64, 64), (d.CentreX, d.CentreY));
        Assert.Equal(10, d.Height, 3);
    }
}
