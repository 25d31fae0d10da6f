using SiteWatch.Demo.Models;

namespace SiteWatch.Tests.Detection;

/// <summary>Tiny ONNX detectors whose output is a known tensor, still computed from the image input through real ops.</summary>
internal static class TestModels
{
    /// <summary>One anchor's channel values: cx, cy, w, h, class scores (then the angle for OBB).</summary>
    public static byte[] Constant(float[][] anchors, int inputSize = 640, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var channels = anchors[0].Length;
        var n = anchors.Length;
        // Channels-first: channel k of anchor j at k * n + j.
        var values = new float[channels * n];
        for (var j = 0; j < n; j++)
        {
            for (var k = 0; k < channels; k++)
            {
                values[k * n + j] = anchors[j][k];
            }
        }
        var b = new OnnxGraphBuilder("constant-detector");
        b.AddInput("images", [1, 3, inputSize, inputSize]);
        b.AddOutput("output0", [1, channels, n]);
        b.AddInitializer("zero", [1], [0f]);
        b.AddInitializer("boxes", [1, channels, n], values);
        b.AddNode("ReduceMax", ["images"], ["max"], OnnxAttribute.Int("keepdims", 0));
        b.AddNode("Mul", ["max", "zero"], ["nothing"]);
        b.AddNode("Add", ["boxes", "nothing"], ["output0"]);
        return b.ToModelBytes(metadata: metadata);
    }

    /// <summary>
    /// A 128-pixel model that reports one box at (64, 64), 10 pixels high, as wide as the scalar "width" that the nodes
    /// <paramref name="width"/> adds compute from "images"; <paramref name="gsd"/> goes into its metadata.
    /// </summary>
    public static string OneBox(string path, double? gsd, Action<OnnxGraphBuilder> width)
    {
        var b = new OnnxGraphBuilder(Path.GetFileNameWithoutExtension(path));
        b.AddInput("images", [1, 3, 128, 128]);
        b.AddOutput("output0", [1, 5, 1]);
        b.AddInitializer("shape", [3], [1L, 1, 1]);
        b.AddInitializer("cx", [1, 1, 1], [64f]);
        b.AddInitializer("cy", [1, 1, 1], [64f]);
        b.AddInitializer("h", [1, 1, 1], [10f]);
        b.AddInitializer("score", [1, 1, 1], [0.9f]);
        width(b);
        b.AddNode("Reshape", ["width", "shape"], ["w"]);
        b.AddNode("Concat", ["cx", "cy", "w", "h", "score"], ["output0"], OnnxAttribute.Int("axis", 1));
        var metadata = Metadata("{0: 'building'}", "detect", 128);
        if (gsd is { } g)
        {
            metadata["gsd"] = g.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return Write(path, b.ToModelBytes(metadata: metadata));
    }

    public static string Write(string path, byte[] model)
    {
        File.WriteAllBytes(path, model);
        return path;
    }

    public static Dictionary<string, string> Metadata(string names, string task, int size = 640) =>
        new() { ["names"] = names, ["task"] = task, ["imgsz"] = $"[{size}, {size}]", ["stride"] = "32" };
}
