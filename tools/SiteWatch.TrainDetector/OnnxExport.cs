using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SiteWatch.Demo.Models;
using SiteWatch.Training;
using static SiteWatch.Training.OnnxLayers;

namespace SiteWatch.TrainDetector;

/// <summary>
/// Writes the trained <see cref="DetectorNet"/> as ONNX in the Ultralytics YOLOv8 "detect" export layout, so the
/// product loads it through the same path as any YOLO model: input "images" [1, 3, T, T] (RGB, 0..1), output
/// "output0" [1, 4 + classes, cells] with rows cx, cy, w, h (input pixels) then per-class probabilities.
/// Batch normalisation is folded into the convolutions; the box decoding (exp of log distances, cell centres,
/// edges to centre and size) is part of the graph.
/// </summary>
/// <summary>Which detector a run trains: its classes, channel widths, graph name and metadata.</summary>
internal sealed record DetectorKind(string Name, string[] ClassNames, int[] Widths, string GraphName, string Description, double? Gsd)
{
    /// <summary>Classes trained only to be told apart from the rest: the metadata's class_map drops them.</summary>
    public string[] DroppedClasses { get; init; } = [];

    public static readonly DetectorKind Objects = new("objects", TrainingScenes.ClassNames, DetectorNet.Standard, "sitewatch-objects",
        "SiteWatch default object detector, trained on synthetic demo scenes only (see its model card).", null);

    public static readonly DetectorKind Drone = new("drone", DroneFrames.ClassNames, DetectorNet.Small, "sitewatch-drone",
        "SiteWatch default drone-frame detector, trained on simulated border flights only (see its model card).", DroneFrames.ModelGsd)
    {
        DroppedClasses = DroneFrames.DroppedClasses,
    };

    public static DetectorKind Parse(string name) => name switch
    {
        "objects" => Objects,
        "drone" => Drone,
        _ => throw new ArgumentException($"--kind {name}: use objects or drone"),
    };

    public DetectorNet NewNet() => new(ClassNames.Length, Widths);
}

internal static class OnnxExport
{
    public static void Write(DetectorNet net, int tile, string path, DetectorKind kind, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        var g = new OnnxGraphBuilder(kind.GraphName);
        g.AddInput("images", [1, 3, tile, tile]);
        string x = "images";
        x = ConvBnRelu(g, net.S1, x);
        x = ConvBnRelu(g, net.S2, x);
        string c4 = ConvBnRelu(g, net.S3, x);
        x = ConvBnRelu(g, net.S4, c4);
        string c8 = ConvBnRelu(g, net.S5, x);
        x = ConvBnRelu(g, net.S6, c8);
        string c16 = ConvBnRelu(g, net.S7, x);
        AddUpsampleScales(g);
        string p8 = ConvBnRelu(g, net.U1, ConcatUpsampled(g, c16, c8, "u1"));
        string p4 = ConvBnRelu(g, net.U2, ConcatUpsampled(g, p8, c4, "u2"));
        string h = ConvBnRelu(g, net.Head, p4);

        int grid = tile / DetectorNet.OutputStride, cells = grid * grid, classes = net.Classes;
        Conv1x1(g, net.ClassHead, h, "cls_logits");
        g.AddNode("Sigmoid", ["cls_logits"], ["cls_prob"]);
        g.AddInitializer("cls_shape", [3], [1L, classes, cells]);
        g.AddNode("Reshape", ["cls_prob", "cls_shape"], ["cls"]);

        Conv1x1(g, net.BoxHead, h, "box_log");
        g.AddInitializer("clip_min", [], [-6f]);
        g.AddInitializer("clip_max", [], [8f]);
        g.AddNode("Clip", ["box_log", "clip_min", "clip_max"], ["box_log_clipped"]);
        g.AddNode("Exp", ["box_log_clipped"], ["box_dist"]);
        g.AddInitializer("box_shape", [3], [1L, 4, cells]);
        g.AddNode("Reshape", ["box_dist", "box_shape"], ["ltrb"]);
        // [cx - ax, cy - ay, w, h] = M · [l, t, r, b] (distances in cells), then + cell centres.
        float s = DetectorNet.OutputStride;
        g.AddInitializer("ltrb_to_xywh", [4, 4], [-s / 2, 0, s / 2, 0, 0, -s / 2, 0, s / 2, s, 0, s, 0, 0, s, 0, s]);
        g.AddNode("MatMul", ["ltrb_to_xywh", "ltrb"], ["xywh_rel"]);
        var anchors = new float[4 * cells];
        for (int n = 0; n < cells; n++)
        {
            anchors[n] = (n % grid + 0.5f) * s;
            anchors[cells + n] = (n / grid + 0.5f) * s;
        }
        g.AddInitializer("cell_centres", [1, 4, cells], anchors);
        g.AddNode("Add", ["xywh_rel", "cell_centres"], ["xywh"]);
        g.AddNode("Concat", ["xywh", "cls"], ["output0"], OnnxAttribute.Int("axis", 1));
        g.AddOutput("output0", [1, 4 + classes, cells]);

        var names = string.Join(", ", kind.ClassNames.Select((n, i) => $"{i}: '{n}'"));
        var metadata = new Dictionary<string, string>
        {
            ["names"] = "{" + names + "}",
            ["imgsz"] = $"[{tile}, {tile}]",
            ["task"] = "detect",
            ["stride"] = DetectorNet.OutputStride.ToString(CultureInfo.InvariantCulture),
            ["description"] = kind.Description,
        };
        if (kind.Gsd is { } gsd)
        {
            metadata["gsd"] = gsd.ToString(CultureInfo.InvariantCulture);
        }
        if (kind.DroppedClasses.Length > 0)
        {
            metadata["class_map"] = System.Text.Json.JsonSerializer.Serialize(kind.DroppedClasses.ToDictionary(c => c, _ => ""));
        }
        foreach (var (k, v) in extraMetadata ?? new Dictionary<string, string>())
        {
            metadata[k] = v;
        }
        File.WriteAllBytes(path, g.ToModelBytes(17, metadata, "SiteWatch.TrainDetector"));
    }

    private static string ConcatUpsampled(OnnxGraphBuilder g, string coarse, string fine, string name)
    {
        g.AddNode("Concat", [Upsample(g, coarse, name + "_up"), fine], [name + "_in"], OnnxAttribute.Int("axis", 1));
        return name + "_in";
    }
}
