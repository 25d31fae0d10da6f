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

    public static string Write(string path, byte[] model)
    {
        File.WriteAllBytes(path, model);
        return path;
    }

    public static Dictionary<string, string> Metadata(string names, string task, int size = 640) =>
        new() { ["names"] = names, ["task"] = task, ["imgsz"] = $"[{size}, {size}]", ["stride"] = "32" };
}
