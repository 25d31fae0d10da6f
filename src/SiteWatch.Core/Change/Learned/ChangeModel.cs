using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using SiteWatch.Core.Detection;

namespace SiteWatch.Core.Change.Learned;

/// <summary>
/// A bi-temporal change model in SiteWatch's ONNX contract: two co-registered images in, change out.
/// <list type="bullet">
/// <item>Input: either one float tensor [1, 2C, H, W] (the BEFORE channels, then the AFTER channels, as Siamese
/// networks such as FC-Siam-diff, BIT or Tiny-CD are usually exported) or two float tensors [1, C, H, W] (BEFORE first).
/// H and W fixed by the model, or by the side-car's <c>tile</c> when dynamic.</item>
/// <item>Output (the first): [1, 1, H, W] or [1, H, W], a change probability (or logits, see <c>output</c>), or
/// [1, 2, H, W] two-class scores, softmaxed, class 1 being change.</item>
/// <item>Side-car JSON beside the model (MODEL.json), every field optional: <c>bands</c> (C names or 1-based numbers,
/// default red, green, blue), <c>scale</c> (as the detector's: auto, percentile, range; per date), <c>mean</c> and
/// <c>std</c> (per channel, applied after scaling to 0..1), <c>gsd</c> (metres per pixel it was trained at),
/// <c>threshold</c> (probability above which a pixel is changed, default 0.5), <c>output</c> (probability or logits),
/// <c>tile</c> (input side when the model's is dynamic), <c>overlap</c> (pixels shared by neighbouring tiles).</item>
/// </list>
/// </summary>
public sealed class ChangeModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string _outputName;
    private readonly int _outputChannels;

    private ChangeModel(string path, InferenceSession session, string[] inputNames, string outputName, int outputChannels, SideCar sideCar, int tile)
    {
        ModelPath = path;
        _session = session;
        _inputNames = inputNames;
        _outputName = outputName;
        _outputChannels = outputChannels;
        Bands = sideCar.Bands;
        Scaling = sideCar.Scaling;
        Mean = sideCar.Mean;
        Std = sideCar.Std;
        GroundSampleDistance = sideCar.Gsd;
        Threshold = sideCar.Threshold;
        Logits = sideCar.Logits;
        Tile = tile;
        Overlap = sideCar.Overlap ?? Math.Max(8, tile / 8);
        if (Overlap * 2 >= tile)
        {
            throw new SiteWatchException($"{path}: overlap {Overlap} must be less than half the tile ({tile})");
        }
    }

    public const string DefaultModelFileName = "sitewatch-change.onnx";

    /// <summary>
    /// The change model shipped with SiteWatch (models/sitewatch-change.onnx beside the application, or
    /// $SITEWATCH_CHANGE_ONNX when set), or null when this build has none.
    /// </summary>
    public static string? DefaultModelPath => ShippedModel.Find("SITEWATCH_CHANGE_ONNX", DefaultModelFileName);

    /// <summary>The model file method "model" runs: the one given, else the shipped default.</summary>
    public static string Resolve(string? modelPath) => modelPath ?? DefaultModelPath
        ?? throw SiteWatchException.About("model", $"the model change method needs a change model file (ONNX, see ChangeModel); this build has no default {DefaultModelFileName}");

    public string ModelPath { get; }
    public IReadOnlyList<string> Bands { get; }
    public InputScaling Scaling { get; }
    public IReadOnlyList<float>? Mean { get; }
    public IReadOnlyList<float>? Std { get; }
    public double? GroundSampleDistance { get; }
    public double Threshold { get; }
    public bool Logits { get; }
    /// <summary>Side of the square tiles the model runs on.</summary>
    public int Tile { get; }
    /// <summary>Pixels neighbouring tiles share; their outputs are blended there.</summary>
    public int Overlap { get; }
    public int Channels => Bands.Count;

    public static ChangeModel Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new SiteWatchException($"{path}: change model file not found");
        }
        var sideCar = ReadSideCar(full);
        InferenceSession session;
        try
        {
            using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            session = new InferenceSession(File.ReadAllBytes(full), options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new SiteWatchException($"{path}: not a model ONNX Runtime can load: {e.Message}", e);
        }
        try
        {
            var c = sideCar.Bands.Count;
            var inputs = session.InputMetadata.ToList();
            int[] dims;
            if (inputs.Count == 1 && IsImage(inputs[0].Value, 2 * c))
            {
                dims = inputs[0].Value.Dimensions;
            }
            else if (inputs.Count == 2 && IsImage(inputs[0].Value, c) && IsImage(inputs[1].Value, c))
            {
                dims = inputs[0].Value.Dimensions;
            }
            else
            {
                throw new SiteWatchException($"{path}: a change model takes one float input [1, {2 * c}, H, W] (before and after channels) or two [1, {c}, H, W] "
                    + $"for the {c} bands {string.Join(", ", sideCar.Bands)}; it has {Describe(session.InputMetadata)}");
            }
            int tile;
            if (dims[2] > 0 && dims[3] > 0)
            {
                if (dims[2] != dims[3])
                {
                    throw new SiteWatchException($"{path}: the input is {dims[3]} x {dims[2]}; tiles must be square");
                }
                tile = dims[2];
                if (sideCar.Tile is { } t && t != tile)
                {
                    throw new SiteWatchException($"{path}: side-car tile {t} differs from the model's fixed input {tile}");
                }
            }
            else
            {
                tile = sideCar.Tile ?? 256;
            }
            var output = session.OutputMetadata.First();
            var o = output.Value.Dimensions;
            var channels = o.Length == 3 ? 1 : o.Length == 4 && o[1] is 1 or 2 ? o[1] : 0;
            if (output.Value.ElementType != typeof(float) || channels == 0)
            {
                throw new SiteWatchException($"{path}: output '{output.Key}' must be float [1, 1, H, W], [1, H, W] or [1, 2, H, W]; it is {output.Value.ElementType.Name}[{string.Join(", ", o)}]");
            }
            if (sideCar.Mean is { } m && m.Count != c || sideCar.Std is { } s && s.Count != c)
            {
                throw new SiteWatchException($"{path}: mean and std need one value per band ({c})");
            }
            return new ChangeModel(full, session, [.. inputs.Select(i => i.Key)], output.Key, channels, sideCar, tile);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static bool IsImage(NodeMetadata m, int channels) =>
        m.ElementType == typeof(float) && m.Dimensions.Length == 4 && m.Dimensions[1] is var c && (c == channels || c < 0);

    private static string Describe(IReadOnlyDictionary<string, NodeMetadata> nodes) =>
        string.Join(", ", nodes.Select(kv => $"'{kv.Key}' {kv.Value.ElementType.Name}[{string.Join(", ", kv.Value.Dimensions)}]"));

    /// <summary>
    /// Runs one tile: <paramref name="input"/> holds 2C planes of Tile x Tile (BEFORE channels, then AFTER);
    /// <paramref name="probability"/> receives Tile x Tile change probabilities.
    /// </summary>
    public void Run(float[] input, Span<float> probability)
    {
        var plane = Tile * Tile;
        var c = Channels;
        List<OrtValue> values = [];
        try
        {
            if (_inputNames.Length == 1)
            {
                values.Add(OrtValue.CreateTensorValueFromMemory(input, [1, 2 * c, Tile, Tile]));
            }
            else
            {
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(0, c * plane), [1, c, Tile, Tile]));
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(c * plane, c * plane), [1, c, Tile, Tile]));
            }
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, _inputNames, values, [_outputName]);
            var data = outputs[0].GetTensorDataAsSpan<float>();
            if (data.Length != _outputChannels * plane)
            {
                throw new SiteWatchException($"{ModelPath}: the output holds {data.Length} values for a {Tile} x {Tile} tile; expected {_outputChannels * plane}");
            }
            if (_outputChannels == 2)
            {
                // Softmax of two classes: P(change) = 1 / (1 + exp(s0 - s1)).
                for (var i = 0; i < plane; i++)
                {
                    probability[i] = 1f / (1f + MathF.Exp(data[i] - data[plane + i]));
                }
            }
            else if (Logits)
            {
                for (var i = 0; i < plane; i++)
                {
                    probability[i] = 1f / (1f + MathF.Exp(-data[i]));
                }
            }
            else
            {
                data.CopyTo(probability);
            }
        }
        finally
        {
            foreach (var v in values)
            {
                v.Dispose();
            }
        }
    }

    public void Dispose() => _session.Dispose();

    private sealed record SideCar(IReadOnlyList<string> Bands, InputScaling Scaling, IReadOnlyList<float>? Mean, IReadOnlyList<float>? Std, double? Gsd,
        double Threshold, bool Logits, int? Tile, int? Overlap);

    private static readonly SideCar Defaults = new(["red", "green", "blue"], InputScaling.Auto, null, null, null, 0.5, false, null, null);

    private static SideCar ReadSideCar(string modelPath) => ModelSideCar.Read(modelPath, "change model side-car", (root, path) =>
    {
        double Number(string name, double low, double high, string what)
        {
            var e = root.GetProperty(name);
            return e.ValueKind == JsonValueKind.Number && e.GetDouble() is var v && v >= low && v <= high
                ? v
                : throw new SiteWatchException($"{path}: {name} must be {what}");
        }
        float[]? Floats(string name) => root.TryGetProperty(name, out var e)
            ? e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number)
                ? [.. e.EnumerateArray().Select(x => x.GetSingle())]
                : throw new SiteWatchException($"{path}: {name} must be a list of numbers, one per band")
            : null;
        var bands = root.TryGetProperty("bands", out var b) ? DetectorModel.ReadStrings(b, path, "bands") : Defaults.Bands;
        if (bands.Count is < 1 or > 32)
        {
            throw new SiteWatchException($"{path}: bands must name 1 to 32 bands");
        }
        var std = Floats("std");
        if (std is not null && std.Any(s => !(s > 0)))
        {
            throw new SiteWatchException($"{path}: std values must be positive");
        }
        var output = root.TryGetProperty("output", out var o) ? o.GetString()?.Trim().ToLowerInvariant() : "probability";
        if (output is not ("probability" or "logits"))
        {
            throw new SiteWatchException($"{path}: output must be probability or logits, not '{output}'");
        }
        return new SideCar(
            bands,
            root.TryGetProperty("scale", out var sc) ? DetectorModel.ReadScaling(sc, path) : Defaults.Scaling,
            Floats("mean"),
            std,
            root.TryGetProperty("gsd", out _) ? Number("gsd", 1e-6, 10_000, "the training imagery's metres per pixel") : null,
            root.TryGetProperty("threshold", out _) ? Number("threshold", 0, 1, "a probability between 0 and 1") : 0.5,
            output == "logits",
            root.TryGetProperty("tile", out _) ? (int)Number("tile", 16, 4096, "a tile side of 16 to 4096 pixels") : null,
            root.TryGetProperty("overlap", out _) ? (int)Number("overlap", 0, 2048, "a number of pixels") : null);
    }) ?? Defaults;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(ModelPath)} ({Channels} bands, tile {Tile}, overlap {Overlap})");
}
