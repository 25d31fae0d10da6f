using SiteWatch.Core;
using SiteWatch.Core.Change;
using SiteWatch.Core.Change.Learned;
using SiteWatch.Gdal;
using SiteWatch.Demo.Models;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Change.Learned;

/// <summary>The ONNX change-model contract, run tiled over a pair with models built here from real ONNX operators.</summary>
public class ChangeModelTests
{
    private static readonly RasterWindow Changed = new(150, 70, 40, 30);

    /// <summary>An 8-bit RGB pair with texture; the AFTER date 180 brighter inside <see cref="Changed"/>.</summary>
    private static (string Before, string After) WritePair(TempDir dir, int width = 300, int height = 200)
    {
        string Write(string name, bool after)
        {
            var path = dir.File(name);
            var profile = new RasterProfile(width, height, 3, RasterDataType.Byte)
            {
                GeoTransform = GeoTransform.NorthUp(543_000, 4_420_000, 1),
                Crs = "EPSG:32652",
                BandDescriptions = ["red", "green", "blue"],
            };
            using var raster = RasterDataset.Create(path, profile);
            var data = new byte[width * height];
            for (var b = 1; b <= 3; b++)
            {
                for (var r = 0; r < height; r++)
                {
                    for (var c = 0; c < width; c++)
                    {
                        var v = 30 + (c * 7 + r * 13 + b * 5) % 60;
                        var inside = c >= Changed.Column && c < Changed.Column + Changed.Width && r >= Changed.Row && r < Changed.Row + Changed.Height;
                        data[r * width + c] = (byte)(after && inside ? v + 160 : v);
                    }
                }
                raster.Write<byte>(b, new RasterWindow(0, 0, width, height), data);
            }
            return path;
        }
        return (Write("before.tif", false), Write("after.tif", true));
    }

    /// <summary>P(change) = min(1, 4 x the mean absolute difference of the channels): 1 where the pair differs by 160/255.</summary>
    private static void AddDifference(OnnxGraphBuilder b, string before, string after, string output, string kind)
    {
        b.AddInitializer("four", [1], [4f]);
        b.AddInitializer("one", [1], [1f]);
        b.AddNode("Sub", [after, before], ["d"]);
        b.AddNode("Abs", ["d"], ["a"]);
        b.AddNode("ReduceMean", ["a"], ["m"], OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 1));
        b.AddNode("Mul", ["m", "four"], ["s"]);
        switch (kind)
        {
            case "probability":
                b.AddNode("Min", ["s", "one"], [output]);
                break;
            case "logits":
                // (s - 0.5) x 16: sigmoid gives nearly 0 or 1.
                b.AddInitializer("half", [1], [0.5f]);
                b.AddInitializer("sixteen", [1], [16f]);
                b.AddNode("Sub", ["s", "half"], ["c"]);
                b.AddNode("Mul", ["c", "sixteen"], [output]);
                break;
            case "two-class":
                b.AddInitializer("half", [1], [0.5f]);
                b.AddInitializer("eight", [1], [8f]);
                b.AddNode("Sub", ["s", "half"], ["c"]);
                b.AddNode("Mul", ["c", "eight"], ["pos"]);
                b.AddNode("Neg", ["pos"], ["neg"]);
                b.AddNode("Concat", ["neg", "pos"], [output], OnnxAttribute.Int("axis", 1));
                break;
        }
    }

    private static string TwoInputModel(TempDir dir, string name, string? sideCar = null, string kind = "probability")
    {
        var b = new OnnxGraphBuilder("difference");
        b.AddInput("before", [1, 3, -1, -1], [null, null, "h", "w"]);
        b.AddInput("after", [1, 3, -1, -1], [null, null, "h", "w"]);
        b.AddOutput("change", [1, kind == "two-class" ? 2 : 1, -1, -1], [null, null, "h", "w"]);
        AddDifference(b, "before", "after", "change", kind);
        return Save(dir, name, b, sideCar);
    }

    private static string StackedModel(TempDir dir, string name, int tile, string? sideCar = null, string kind = "probability", int channels = 6)
    {
        var b = new OnnxGraphBuilder("stacked-difference");
        b.AddInput("pair", [1, channels, tile, tile]);
        b.AddOutput("change", [1, kind == "two-class" ? 2 : 1, tile, tile]);
        b.AddNode("Split", ["pair"], ["x0", "x1"], OnnxAttribute.Int("axis", 1));
        AddDifference(b, "x0", "x1", "change", kind);
        return Save(dir, name, b, sideCar);
    }

    private static string Save(TempDir dir, string name, OnnxGraphBuilder b, string? sideCar)
    {
        var path = dir.File(name + ".onnx");
        File.WriteAllBytes(path, b.ToModelBytes());
        if (sideCar is not null)
        {
            File.WriteAllText(Path.ChangeExtension(path, ".json"), sideCar);
        }
        return path;
    }

    private static (ChangeDetectionResult Result, float[] Magnitude, byte[] Mask) Run(TempDir dir, string model, int blockSize = 512, string threshold = "auto", string tag = "")
    {
        var (before, after) = WritePair(dir);
        using var pair = RasterPair.Open(before, after);
        var options = new ChangeDetectionOptions { Method = ChangeMethodKind.Model, ModelPath = model, BlockSize = blockSize, Threshold = ChangeChoices.ParseThreshold(threshold) };
        var magnitude = dir.File($"magnitude{tag}.tif");
        var mask = dir.File($"mask{tag}.tif");
        var result = ChangeDetector.Detect(pair, options, magnitude, mask);
        using var m = RasterDataset.Open(magnitude);
        using var k = RasterDataset.Open(mask);
        return (result, m.Read<float>(1, new RasterWindow(0, 0, m.Width, m.Height)), k.Read<byte>(1, new RasterWindow(0, 0, k.Width, k.Height)));
    }

    [Fact]
    public void A_two_input_model_runs_in_overlapping_tiles_across_blocks_and_finds_exactly_the_changed_rectangle()
    {
        using var dir = new TempDir();
        var model = TwoInputModel(dir, "two", """{ "tile": 64, "overlap": 8 }""");
        // Blocks of 128 with a halo of 8: each block runs several 64-pixel tiles; seams of both kinds are crossed.
        var (result, magnitude, mask) = Run(dir, model, blockSize: 128);
        Assert.Equal("model", result.Method);
        Assert.Equal("model", result.ThresholdMethod);
        Assert.Equal(0.5, result.Threshold);
        Assert.Equal(Changed.PixelCount, result.ChangedPixels);
        for (var r = 0; r < 200; r++)
        {
            for (var c = 0; c < 300; c++)
            {
                var inside = c >= Changed.Column && c < Changed.Column + Changed.Width && r >= Changed.Row && r < Changed.Row + Changed.Height;
                Assert.Equal(inside ? 1f : 0f, magnitude[r * 300 + c], 4);
                Assert.Equal(inside ? ChangeDetector.MaskChanged : ChangeDetector.MaskUnchanged, mask[r * 300 + c]);
            }
        }
        Assert.Contains(result.Notes, n => n.Contains("model tiles of 64 x 64", StringComparison.Ordinal));
        Assert.Equal(["change_probability"], result.MagnitudeBands);
    }

    [Fact]
    public void Stacked_input_logits_and_two_class_outputs_give_the_same_change_and_the_side_car_threshold_applies()
    {
        using var dir = new TempDir();
        var stacked = Run(dir, StackedModel(dir, "stacked", 96, """{ "output": "logits", "threshold": 0.3 }""", kind: "logits"), tag: "1");
        Assert.Equal(0.3, stacked.Result.Threshold);
        Assert.InRange(stacked.Magnitude[0], 0, 0.001f);
        Assert.InRange(stacked.Magnitude[70 * 300 + 160], 0.999f, 1);
        Assert.Equal(Changed.PixelCount, stacked.Result.ChangedPixels);
        var twoClass = Run(dir, StackedModel(dir, "twoclass", 96, kind: "two-class"), blockSize: 100, tag: "2");
        Assert.Equal(Changed.PixelCount, twoClass.Result.ChangedPixels);
        Assert.Equal(stacked.Mask, twoClass.Mask);
        // Otsu on the probability works too.
        Assert.Equal(Changed.PixelCount, Run(dir, StackedModel(dir, "otsu", 96), threshold: "otsu", tag: "3").Result.ChangedPixels);
    }

    [Fact]
    public void Models_outside_the_contract_and_bad_side_cars_are_refused_by_name()
    {
        using var dir = new TempDir();
        var wrongChannels = StackedModel(dir, "four", 64, channels: 4);
        var e = Assert.Throws<SiteWatchException>(() => ChangeModel.Load(wrongChannels));
        Assert.Contains("[1, 6, H, W]", e.Message);
        Assert.Contains("red, green, blue", e.Message);

        Assert.Contains("threshold", Assert.Throws<SiteWatchException>(() => ChangeModel.Load(TwoInputModel(dir, "t", """{ "threshold": 2 }"""))).Message);
        Assert.Contains("overlap", Assert.Throws<SiteWatchException>(() => ChangeModel.Load(TwoInputModel(dir, "o", """{ "tile": 64, "overlap": 40 }"""))).Message);
        Assert.Contains("mean and std", Assert.Throws<SiteWatchException>(() => ChangeModel.Load(TwoInputModel(dir, "m", """{ "mean": [0.5] }"""))).Message);
        Assert.Contains("tile 32 differs", Assert.Throws<SiteWatchException>(() => ChangeModel.Load(StackedModel(dir, "fixed", 64, """{ "tile": 32 }"""))).Message);

        var (before, after) = WritePair(dir);
        using var pair = RasterPair.Open(before, after);
        var good = TwoInputModel(dir, "good", """{ "tile": 64 }""");
        Assert.Contains("chi-square", Assert.Throws<SiteWatchException>(() =>
            ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeMethodKind.Model, ModelPath = good, Threshold = ThresholdRule.ChiSquare }, dir.File("a.tif"), dir.File("b.tif"))).Message);
        Assert.Contains("learned model", Assert.Throws<SiteWatchException>(() =>
            ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeMethodKind.Cva, Threshold = ThresholdRule.Model }, dir.File("a.tif"), dir.File("b.tif"))).Message);
        // Without a file the method runs the shipped model; a file given is run instead.
        Assert.Equal(ChangeModel.DefaultModelPath, ChangeModel.Resolve(null));
        Assert.Equal(good, ChangeModel.Resolve(good));
        Assert.False(File.Exists(dir.File("a.tif")));
    }

    [Fact]
    public void The_cli_runs_a_change_model_and_refuses_it_with_another_method()
    {
        using var dir = new TempDir();
        var (before, after) = WritePair(dir);
        var model = TwoInputModel(dir, "cli", """{ "tile": 64 }""");
        var (code, output, error) = Cli.CliTests.Run(null, "change", "detect", before, after, "--model", model, "--out", dir.File("out"), "--json");
        Assert.True(code == 0, error);
        var summary = System.Text.Json.JsonDocument.Parse(output).RootElement;
        Assert.Contains("\"model\"", output);
        Assert.True(File.Exists(Path.Combine(dir.File("out"), "change_mask.tif")));
        Assert.Equal(System.Text.Json.JsonValueKind.Object, summary.ValueKind);

        var refused = Cli.CliTests.Run(null, "change", "detect", before, after, "--model", model, "--method", "cva", "--out", dir.File("out2"));
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("excludes --method cva", refused.Out + refused.Err);
        Assert.False(Directory.Exists(dir.File("out2")));
    }
}
