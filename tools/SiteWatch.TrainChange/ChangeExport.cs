using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SiteWatch.Demo.Models;
using SiteWatch.Training;
using static SiteWatch.Training.OnnxLayers;
using static TorchSharp.torch;

namespace SiteWatch.TrainChange;

/// <summary>
/// Writes the trained <see cref="ChangeNet"/> in SiteWatch's change-model contract (Core's ChangeModel): input
/// "images" [1, 6, T, T] (BEFORE red, green, blue, then AFTER, each band stretched 2-98 % to 0..1 over its scene),
/// output "change" [1, 1, T, T], the change probability; and its side-car MODEL.json (bands, scale, threshold,
/// overlap). Both dates run through the encoder as a batch of two, as in training; batch normalisation is folded.
/// </summary>
internal static class ChangeExport
{
    public static void Write(ChangeNet net, int tile, string path, double threshold, IReadOnlyDictionary<string, string> metadata)
    {
        if (tile % ChangeNet.Granularity != 0)
        {
            throw new ArgumentException($"the tile ({tile}) must be a multiple of {ChangeNet.Granularity}");
        }
        var g = new OnnxGraphBuilder("sitewatch-change");
        g.AddInput("images", [1, 6, tile, tile]);
        AddUpsampleScales(g);
        g.AddInitializer("zero", [1], [0L]);
        g.AddInitializer("one", [1], [1L]);
        g.AddInitializer("two", [1], [2L]);
        g.AddInitializer("three", [1], [3L]);
        g.AddInitializer("six", [1], [6L]);
        g.AddNode("Slice", ["images", "zero", "three", "one"], ["before"]);
        g.AddNode("Slice", ["images", "three", "six", "one"], ["after"]);
        g.AddNode("Concat", ["before", "after"], ["dates"], OnnxAttribute.Int("axis", 0));
        string x = "dates";
        var differences = new List<string>();
        foreach (var (first, second) in net.Stages)
        {
            x = ConvBnRelu(g, second, ConvBnRelu(g, first, x));
            g.AddNode("Slice", [x, "zero", "one", "zero"], [x + "_before"]);
            g.AddNode("Slice", [x, "one", "two", "zero"], [x + "_after"]);
            g.AddNode("Sub", [x + "_before", x + "_after"], [x + "_sub"]);
            g.AddNode("Abs", [x + "_sub"], [x + "_diff"]);
            differences.Add(x + "_diff");
        }
        string d = differences[^1];
        for (int level = 0; level < net.Decoder.Count; level++)
        {
            var block = net.Decoder[level];
            string name = block.GetName();
            g.AddNode("Concat", [Upsample(g, d, name + "_up"), differences[^(level + 2)]], [name + "_in"], OnnxAttribute.Int("axis", 1));
            d = ConvBnRelu(g, block, name + "_in");
        }
        Conv1x1(g, net.Head, d, "logits");
        g.AddNode("Sigmoid", ["logits"], ["change"]);
        g.AddOutput("change", [1, 1, tile, tile]);
        var all = new Dictionary<string, string>(metadata)
        {
            ["description"] = "SiteWatch default change model: before and after RGB in, change probability out (see its model card).",
        };
        File.WriteAllBytes(path, g.ToModelBytes(17, all, "SiteWatch.TrainChange"));

        var sideCar = new JsonObject
        {
            ["bands"] = new JsonArray("red", "green", "blue"),
            ["scale"] = new JsonObject { ["kind"] = "percentile", ["low"] = 2, ["high"] = 98 },
            ["threshold"] = Math.Round(threshold, 3),
            ["overlap"] = tile / 8,
            ["output"] = "probability",
        };
        File.WriteAllText(Path.ChangeExtension(path, ".json"), sideCar.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>ONNX Runtime's output against TorchSharp's on one input: the largest difference in probability.</summary>
    public static double MaxDifference(ChangeNet net, string onnxPath, float[] input, int tile)
    {
        using var session = new InferenceSession(onnxPath);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("images", new DenseTensor<float>(input, [1, 6, tile, tile]))]);
        var onnx = results[0].AsTensor<float>().ToArray();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var torchProbability = net.forward(tensor(input, [1, 6, tile, tile])).sigmoid().data<float>().ToArray();
        double worst = 0;
        for (int i = 0; i < onnx.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(onnx[i] - torchProbability[i]));
        }
        return worst;
    }
}
