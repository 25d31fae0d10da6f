using SiteWatch.Core;
using SiteWatch.Core.Detection;
using SiteWatch.Demo.Models;

namespace SiteWatch.Tests.Detection;

public class DetectorModelTests
{
    private static float[] Grey(int width, int height) => Enumerable.Repeat(0.5f, 3 * width * height).ToArray();

    [Fact]
    public void Detect_layout_is_decoded_thresholded_and_suppressed_per_class()
    {
        using var dir = new TempDir();
        var path = TestModels.Write(dir.File("m.onnx"), TestModels.Constant(
        [
            [100, 50, 20, 10, 0.9f, 0.1f],   // plane
            [101, 51, 20, 10, 0.8f, 0.05f],  // same plane, weaker: suppressed
            [100, 50, 20, 10, 0.1f, 0.3f],   // ship at the same place: another class, kept
            [300, 300, 8, 8, 0.2f, 0.1f],    // below the score threshold
            [630, 5, 40, 20, 0.7f, 0f],      // reaches past the right edge: clipped to the image
        ], metadata: TestModels.Metadata("{0: 'plane', 1: 'ship'}", "detect")));
        using var model = DetectorModel.Load(path);
        Assert.Equal(["plane", "ship"], model.ClassNames);
        Assert.Equal(DetectorTask.Detect, model.Task);
        Assert.Equal((640, 640), (model.InputWidth, model.InputHeight));
        Assert.Equal("metadata", model.NamesFrom);

        var found = model.Detect(Grey(640, 640), 640, 640, new DetectorOptions());
        Assert.Equal(3, found.Count);
        Assert.Equal(new PixelDetection(0, "plane", 0.9f, 100, 50, 20, 10, 0), found[0]);
        Assert.Equal(new PixelDetection(0, "plane", 0.7f, 625, 7.5, 30, 15, 0), found[1]);
        Assert.Equal(("ship", 0.3f), (found[2].ClassName, found[2].Score));

        // A stricter NMS threshold keeps both planes; a higher score threshold drops the ship.
        Assert.Equal(4, model.Detect(Grey(640, 640), 640, 640, new DetectorOptions { IouThreshold = 0.95 }).Count);
        Assert.DoesNotContain(model.Detect(Grey(640, 640), 640, 640, new DetectorOptions { ScoreThreshold = 0.5f }), d => d.ClassName == "ship");
    }

    [Fact]
    public void Letterboxed_detections_map_back_to_the_image()
    {
        using var dir = new TempDir();
        var path = TestModels.Write(dir.File("m.onnx"), TestModels.Constant([[320, 320, 40, 20, 0.9f]], metadata: TestModels.Metadata("{0: 'car'}", "detect")));
        using var model = DetectorModel.Load(path);
        // 1280 x 640 is halved to 640 x 320 and centred: 160 rows of padding above.
        var d = Assert.Single(model.Detect(Grey(1280, 640), 1280, 640, new DetectorOptions()));
        Assert.Equal(640, d.CentreX, 6);
        Assert.Equal(320, d.CentreY, 6);
        Assert.Equal((80.0, 40.0), (d.Width, d.Height));
        // 320 x 480 is scaled by 4/3 to 427 x 640, padded 106 columns on the left.
        var e = Assert.Single(model.Detect(Grey(320, 480), 320, 480, new DetectorOptions()));
        Assert.Equal((320 - 106) * 0.75, e.CentreX, 6);
        Assert.Equal(240, e.CentreY, 6);
    }

    [Fact]
    public void Letterbox_resamples_and_pads_with_grey()
    {
        var box = Letterbox.For(4, 2, 8, 8);
        Assert.Equal((2.0, 0, 2, 8, 4), (box.Scale, box.PadLeft, box.PadTop, box.ResizedWidth, box.ResizedHeight));
        var chw = new float[3 * 8];
        Array.Fill(chw, 1f);
        var input = box.Apply(chw, 4, 2);
        Assert.Equal(Letterbox.PadValue, input[0]);           // row 0: padding
        Assert.Equal(1f, input[2 * 8 + 3]);                    // row 2: image
        Assert.Equal(Letterbox.PadValue, input[2 * 64 + 7 * 8]); // last plane, last row: padding
    }

    [Fact]
    public void Obb_layout_takes_the_angle_last_and_regularises_it()
    {
        using var dir = new TempDir();
        var path = TestModels.Write(dir.File("obb.onnx"), TestModels.Constant(
        [
            [200, 200, 10, 30, 0.05f, 0.9f, 0.2f],  // taller than wide: becomes 30 x 10 at 0.2 + pi/2
            [200, 200, 30, 10, 0.05f, 0.8f, 0.2f + (float)(Math.PI / 2)], // the same rectangle: suppressed by rotated IoU
            [400, 400, 30, 10, 0.7f, 0.1f, 0.3f],
        ], metadata: TestModels.Metadata("{0: 'storage-tank', 1: \"ship's boat\"}", "obb")));
        using var model = DetectorModel.Load(path);
        Assert.Equal(DetectorTask.Obb, model.Task);
        Assert.Equal(["storage-tank", "ship's boat"], model.ClassNames);
        var found = model.Detect(Grey(640, 640), 640, 640, new DetectorOptions());
        Assert.Equal(2, found.Count);
        Assert.Equal("ship's boat", found[0].ClassName);
        Assert.Equal((30.0, 10.0), (found[0].Width, found[0].Height));
        Assert.Equal(0.2 + Math.PI / 2, found[0].AngleRadians, 5);
        Assert.Equal(0.3, found[1].AngleRadians, 5);
    }

    [Fact]
    public void Rotated_iou_on_known_cases()
    {
        PixelDetection Box(double cx, double cy, double w, double h, double angle) => new(0, "x", 1, cx, cy, w, h, angle);
        var a = Box(50, 50, 40, 20, 0.7);
        Assert.Equal(1, BoxOverlap.IoU(a, a), 9);
        Assert.Equal(1, BoxOverlap.IoU(a, Box(50, 50, 20, 40, 0.7 + Math.PI / 2)), 9);
        // A square and the same square turned 45 degrees meet in a regular octagon: IoU = sqrt(2) / 2.
        Assert.Equal(Math.Sqrt(2) / 2, BoxOverlap.IoU(Box(0, 0, 10, 10, 0), Box(0, 0, 10, 10, Math.PI / 4)), 9);
        // Half-overlapping axis-aligned boxes: 50 / 150.
        Assert.Equal(1 / 3.0, BoxOverlap.IoU(Box(0, 0, 10, 10, 0), Box(5, 0, 10, 10, 0)), 9);
        Assert.Equal(1 / 3.0, BoxOverlap.IoU(Box(0, 0, 10, 10, 1e-12), Box(5, 0, 10, 10, 0)), 6);
        Assert.Equal(0, BoxOverlap.IoU(Box(0, 0, 10, 10, 0.3), Box(30, 0, 10, 10, 0.3)));
        // A small box inside a big one: IoU small, intersection over the smaller 1.
        Assert.Equal(1, BoxOverlap.IoSmaller(Box(0, 0, 40, 40, 0.5), Box(1, 1, 4, 4, 0.2)), 9);
    }

    [Fact]
    public void The_score_threshold_is_the_model_s_own_when_its_metadata_gives_one()
    {
        using var dir = new TempDir();
        var anchors = new[] { new float[] { 10, 10, 4, 4, 0.9f } };
        var own = TestModels.Metadata("{0: 'car'}", "detect");
        own["score_threshold"] = "0.35";
        TestModels.Write(dir.File("own.onnx"), TestModels.Constant(anchors, metadata: own));
        using (var model = DetectorModel.Load(dir.File("own.onnx")))
        {
            Assert.Equal(0.35f, model.ScoreThreshold);
        }
        TestModels.Write(dir.File("plain.onnx"), TestModels.Constant(anchors, metadata: TestModels.Metadata("{0: 'car'}", "detect")));
        using (var model = DetectorModel.Load(dir.File("plain.onnx")))
        {
            Assert.Equal(new DetectorOptions().ScoreThreshold, model.ScoreThreshold);
        }
        var bad = TestModels.Metadata("{0: 'car'}", "detect");
        bad["score_threshold"] = "high";
        TestModels.Write(dir.File("bad.onnx"), TestModels.Constant(anchors, metadata: bad));
        var e = Assert.Throws<SiteWatchException>(() => DetectorModel.Load(dir.File("bad.onnx")));
        Assert.Contains("score_threshold 'high'", e.Message);
    }

    [Fact]
    public void Class_names_come_from_metadata_before_the_side_car_and_are_generated_last()
    {
        using var dir = new TempDir();
        var anchors = new[] { new float[] { 10, 10, 4, 4, 0.9f, 0.1f } };
        File.WriteAllText(dir.File("both.json"), """{"names": ["car", "truck"], "imgsz": [640, 640], "task": "detect", "bands": ["3", "2", "1"], "scale": {"kind": "range", "low": 0, "high": 4000}}""");
        TestModels.Write(dir.File("both.onnx"), TestModels.Constant(anchors, metadata: TestModels.Metadata("{0: 'plane', 1: 'ship'}", "detect")));
        using (var both = DetectorModel.Load(dir.File("both.onnx")))
        {
            Assert.Equal(["plane", "ship"], both.ClassNames);
            Assert.Equal(["3", "2", "1"], both.Bands);
            Assert.Equal(new InputScaling("range", 0, 4000), both.Scaling);
        }

        File.Copy(dir.File("both.json"), dir.File("side.json"));
        TestModels.Write(dir.File("side.onnx"), TestModels.Constant(anchors));
        using (var side = DetectorModel.Load(dir.File("side.onnx")))
        {
            Assert.Equal(["car", "truck"], side.ClassNames);
            Assert.Equal("side-car", side.NamesFrom);
        }

        TestModels.Write(dir.File("bare.onnx"), TestModels.Constant(anchors, inputSize: 320));
        using var bare = DetectorModel.Load(dir.File("bare.onnx"));
        Assert.Equal(["class0", "class1"], bare.ClassNames);
        Assert.Equal((320, 320), (bare.InputWidth, bare.InputHeight));
        Assert.Equal(["red", "green", "blue"], bare.Bands);
        Assert.Equal(InputScaling.Auto, bare.Scaling);
    }

    [Fact]
    public void Bad_models_are_refused_with_a_clear_message()
    {
        using var dir = new TempDir();
        Assert.Contains("not found", Assert.Throws<SiteWatchException>(() => DetectorModel.Load(dir.File("missing.onnx"))).Message);

        File.WriteAllText(dir.File("text.onnx"), "this is not a model");
        var notOnnx = Assert.Throws<SiteWatchException>(() => DetectorModel.Load(dir.File("text.onnx"))).Message;
        Assert.Contains("text.onnx", notOnnx);
        Assert.Contains("not a model ONNX Runtime can load", notOnnx);

        // Class count: three names for an output of 4 + 2 channels.
        TestModels.Write(dir.File("mismatch.onnx"), TestModels.Constant([[1, 1, 1, 1, 0.5f, 0.5f]], metadata: TestModels.Metadata("{0: 'a', 1: 'b', 2: 'c'}", "detect")));
        var mismatch = Assert.Throws<SiteWatchException>(() => DetectorModel.Load(dir.File("mismatch.onnx"))).Message;
        Assert.Contains("3 class names", mismatch);
        Assert.Contains("6 channels", mismatch);

        // A rank-2 output is no YOLO layout.
        var b = new OnnxGraphBuilder("flat");
        b.AddInput("images", [1, 3, 64, 64]);
        b.AddOutput("logits", [1, 10]);
        b.AddInitializer("shape", [2], [1L, -1L]);
        b.AddNode("Reshape", ["images", "shape"], ["flat"]);
        b.AddNode("ReduceMax", ["flat"], ["m"], OnnxAttribute.Ints("axes", 1));
        b.AddNode("Expand", ["m", "shape"], ["logits"]);
        TestModels.Write(dir.File("flat.onnx"), b.ToModelBytes(opset: 13));
        Assert.Contains("expected [1, 4+classes, N]", Assert.Throws<SiteWatchException>(() => DetectorModel.Load(dir.File("flat.onnx"))).Message);

        // A single-channel input is no image input for a 3-band detector.
        var g = new OnnxGraphBuilder("grey");
        g.AddInput("images", [1, 1, 64, 64]);
        g.AddOutput("output0", [1, 1, 64, 64]);
        g.AddNode("Relu", ["images"], ["output0"]);
        TestModels.Write(dir.File("grey.onnx"), g.ToModelBytes());
        Assert.Contains("float image input [1, 3, H, W]", Assert.Throws<SiteWatchException>(() => DetectorModel.Load(dir.File("grey.onnx"))).Message);

        File.WriteAllText(dir.File("badcar.json"), "{ names: oops");
        TestModels.Write(dir.File("badcar.onnx"), TestModels.Constant([[1, 1, 1, 1, 0.5f]]));
        Assert.Contains("badcar.json", Assert.Throws<SiteWatchException>(() => DetectorModel.Load(dir.File("badcar.onnx"))).Message);
    }

    [Fact]
    public void Cuda_without_the_provider_is_a_clear_error()
    {
        using var dir = new TempDir();
        var path = TestModels.Write(dir.File("m.onnx"), TestModels.Constant([[10, 10, 4, 4, 0.9f]]));
        using var model = DetectorModel.Load(path);
        var e = Assert.Throws<SiteWatchException>(() => model.Detect(Grey(640, 640), 640, 640, new DetectorOptions { Device = "cuda" }));
        Assert.Contains("CUDA", e.Message);
        Assert.Throws<SiteWatchException>(() => model.Detect(Grey(640, 640), 640, 640, new DetectorOptions { Device = "tpu" }));
    }
}
