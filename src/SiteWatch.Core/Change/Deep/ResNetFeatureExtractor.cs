using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;

namespace SiteWatch.Core.Change.Deep;

/// <summary>
/// A feature layer of the ImageNet ResNet18 shipped in Microsoft.ML.DnnImageFeaturizer.ResNet18 (a CNTK export):
/// the tensor that ends the stage, its stride in input pixels (feature j is centred on input pixel Stride * j), its
/// channels, and its theoretical receptive field in input pixels.
/// </summary>
public sealed record ResNetLayer(string Name, string Tensor, int Stride, int Channels, int ReceptiveField)
{
    /// <summary>Input pixels on each side of a feature's centre that can influence it.</summary>
    public int ReceptiveRadius => (ReceptiveField - 1) / 2;

    /// <summary>The stem: 7 x 7 convolution, stride 2, batch norm, ReLU.</summary>
    public static ResNetLayer Conv1 { get; } = new("conv1", "ReLU253_Output_0", 2, 64, 7);
    /// <summary>After the 3 x 3 max pool and two basic blocks at stride 4.</summary>
    public static ResNetLayer Layer1 { get; } = new("layer1", "ReLU283_Output_0", 4, 64, 43);
    /// <summary>Two basic blocks at stride 8.</summary>
    public static ResNetLayer Layer2 { get; } = new("layer2", "ReLU315_Output_0", 8, 128, 99);
    /// <summary>Two basic blocks at stride 16.</summary>
    public static ResNetLayer Layer3 { get; } = new("layer3", "ReLU347_Output_0", 16, 256, 211);
    /// <summary>Two basic blocks at stride 32 (before the global pooling).</summary>
    public static ResNetLayer Layer4 { get; } = new("layer4", "ReLU393_Output_0", 32, 512, 435);

    public static IReadOnlyList<ResNetLayer> All { get; } = [Conv1, Layer1, Layer2, Layer3, Layer4];

    public static ResNetLayer Find(string name) =>
        All.FirstOrDefault(l => string.Equals(l.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new SiteWatchException($"unknown ResNet18 layer '{name}'; use one of {string.Join(", ", All.Select(l => l.Name))}");
}

/// <summary>
/// Runs the ImageNet ResNet18 (models/ResNet18.onnx beside the application, the unmodified file of the NuGet package
/// Microsoft.ML.DnnImageFeaturizer.ResNet18) up to the requested layers and returns their activations. The packaged
/// graph has a fixed 1 x 3 x 224 x 224 input and only the pooled 512-vector as output; at load time, in memory, the
/// requested stage outputs become the graph outputs, everything after them is cut, and batch, height and width
/// become free. One session per layer set and thread setting is created per process and shared (Run is thread-safe).
/// </summary>
public sealed class ResNetFeatureExtractor
{
    /// <summary>The packaged graph's image input.</summary>
    public const string InputName = "Input247";

    /// <summary>
    /// Per-channel means the network subtracts, in its B, G, R channel order: the spatial means of the MeanImage of the
    /// package's ResNetPreprocess.onnx (which splits RGB, reorders to BGR and subtracts that image; there is no
    /// division by a standard deviation: the network takes 0..255 pixel values).
    /// </summary>
    public static IReadOnlyList<float> MeanBgr { get; } = [103.063f, 115.903f, 123.152f];

    private static readonly ConcurrentDictionary<string, Lazy<ResNetFeatureExtractor>> Cache = new(StringComparer.Ordinal);

    private readonly InferenceSession _session;
    private readonly string[] _outputNames;

    private ResNetFeatureExtractor(InferenceSession session, IReadOnlyList<ResNetLayer> layers, int intraOpThreads, string modelPath)
    {
        _session = session;
        Layers = layers;
        IntraOpThreads = intraOpThreads;
        ModelPath = modelPath;
        _outputNames = [.. layers.Select(l => l.Tensor)];
        Alignment = layers.Max(l => l.Stride);
    }

    /// <summary>models/ResNet18.onnx in the application directory, or $SITEWATCH_RESNET18_ONNX when set.</summary>
    public static string DefaultModelPath =>
        Environment.GetEnvironmentVariable("SITEWATCH_RESNET18_ONNX") is { Length: > 0 } env
            ? env
            : Path.Combine(AppContext.BaseDirectory, "models", "ResNet18.onnx");

    /// <summary>The layers returned, in the order given.</summary>
    public IReadOnlyList<ResNetLayer> Layers { get; }

    /// <summary>Input height and width must be multiples of this (the largest stride): the strided residual blocks need even sizes.</summary>
    public int Alignment { get; }

    /// <summary>ONNX Runtime intra-op threads (0 = its default, one per physical core).</summary>
    public int IntraOpThreads { get; }

    public string ModelPath { get; }

    /// <summary>The shared extractor for these layers and this thread setting, loading the model on first use.</summary>
    public static ResNetFeatureExtractor Get(IReadOnlyList<ResNetLayer> layers, int intraOpThreads = 0, string? modelPath = null)
    {
        if (layers.Count == 0)
        {
            throw new ArgumentException("At least one layer is needed.", nameof(layers));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(intraOpThreads);
        var path = Path.GetFullPath(modelPath ?? DefaultModelPath);
        var key = $"{path}|{intraOpThreads}|{string.Join(",", layers.Select(l => l.Tensor))}";
        var lazy = Cache.GetOrAdd(key, _ => new Lazy<ResNetFeatureExtractor>(() => Load(path, layers, intraOpThreads), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Cache.TryRemove(new KeyValuePair<string, Lazy<ResNetFeatureExtractor>>(key, lazy));
            throw;
        }
    }

    private static ResNetFeatureExtractor Load(string path, IReadOnlyList<ResNetLayer> layers, int intraOpThreads)
    {
        if (!File.Exists(path))
        {
            throw new SiteWatchException($"{path}: the ResNet18 model deep CVA needs is missing (it comes with the Microsoft.ML.DnnImageFeaturizer.ResNet18 package and is copied to models/ on build)");
        }
        byte[] edited;
        try
        {
            edited = OnnxGraphEditor.ExposeTensors(File.ReadAllBytes(path), InputName, 3, [.. layers.Select(l => l.Tensor)]);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new SiteWatchException($"{path}: is not the ResNet18 graph deep CVA expects ({e.Message})", e);
        }
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = intraOpThreads,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        // Between runs the caller reads rasters and upsamples on the same cores: idle ORT threads should sleep, not spin.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            return new ResNetFeatureExtractor(new InferenceSession(edited, options), layers, intraOpThreads, path);
        }
        catch (OnnxRuntimeException e)
        {
            throw new SiteWatchException($"{path}: ONNX Runtime cannot load it: {e.Message}", e);
        }
    }

    /// <summary>
    /// Runs the network on <paramref name="batch"/> images of height x width given as R, G, B planes on the 0..255
    /// scale (image-major: image i, channel c at [(3 i + c) h w, ...)). Height and width must be multiples of
    /// <see cref="Alignment"/>. The caller disposes the result.
    /// </summary>
    public FeatureMaps Extract(ReadOnlySpan<float> rgb, int batch, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (height < Alignment || width < Alignment || height % Alignment != 0 || width % Alignment != 0)
        {
            throw new ArgumentException($"Height and width must be positive multiples of {Alignment}; got {height} x {width}.");
        }
        var plane = height * width;
        if (rgb.Length < 3 * batch * plane)
        {
            throw new ArgumentException("The input holds fewer than batch x 3 x height x width values.", nameof(rgb));
        }
        var input = new float[3 * batch * plane];
        for (var i = 0; i < batch; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                // Network channel c (B, G, R) comes from input plane 2 - c (R, G, B).
                var src = rgb.Slice((3 * i + 2 - c) * plane, plane);
                var dst = input.AsSpan((3 * i + c) * plane, plane);
                var mean = MeanBgr[c];
                for (var k = 0; k < plane; k++)
                {
                    dst[k] = src[k] - mean;
                }
            }
        }
        return ExtractPreprocessed(input, batch, height, width);
    }

    /// <summary>
    /// Runs the network on an input already in its own form: B, G, R planes with <see cref="MeanBgr"/> subtracted.
    /// The array is used in place, not copied.
    /// </summary>
    internal FeatureMaps ExtractPreprocessed(float[] bgr, int batch, int height, int width)
    {
        if (height < Alignment || width < Alignment || height % Alignment != 0 || width % Alignment != 0)
        {
            throw new ArgumentException($"Height and width must be positive multiples of {Alignment}; got {height} x {width}.");
        }
        if (bgr.Length != 3 * batch * height * width)
        {
            throw new ArgumentException("The input must hold exactly batch x 3 x height x width values.", nameof(bgr));
        }
        using var inputValue = OrtValue.CreateTensorValueFromMemory(bgr, [batch, 3, height, width]);
        using var runOptions = new RunOptions();
        var outputs = _session.Run(runOptions, [InputName], [inputValue], _outputNames);
        return new FeatureMaps(Layers, outputs);
    }
}

/// <summary>The activations of one <see cref="ResNetFeatureExtractor.Extract"/> call, held in ONNX Runtime's memory until disposed.</summary>
public sealed class FeatureMaps : IDisposable
{
    private readonly IDisposableReadOnlyCollection<OrtValue> _values;
    private readonly (int Batch, int Channels, int Height, int Width)[] _shapes;

    internal FeatureMaps(IReadOnlyList<ResNetLayer> layers, IDisposableReadOnlyCollection<OrtValue> values)
    {
        Layers = layers;
        _values = values;
        _shapes = new (int, int, int, int)[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            var shape = values[i].GetTensorTypeAndShape().Shape;
            if (shape.Length != 4)
            {
                throw new InvalidOperationException($"Layer {layers[i].Name} returned a rank-{shape.Length} tensor.");
            }
            _shapes[i] = ((int)shape[0], (int)shape[1], (int)shape[2], (int)shape[3]);
        }
    }

    public IReadOnlyList<ResNetLayer> Layers { get; }

    /// <summary>Batch, channels, height and width of layer <paramref name="layer"/> (index into <see cref="Layers"/>).</summary>
    public (int Batch, int Channels, int Height, int Width) Shape(int layer) => _shapes[layer];

    /// <summary>The activations of a layer as [batch, channels, height, width], row-major.</summary>
    public ReadOnlySpan<float> Data(int layer) => _values[layer].GetTensorDataAsSpan<float>();

    /// <summary>Feature map <paramref name="channel"/> of image <paramref name="image"/> of a layer (height x width values).</summary>
    public ReadOnlySpan<float> Map(int layer, int image, int channel)
    {
        var (_, c, h, w) = _shapes[layer];
        return Data(layer).Slice((image * c + channel) * h * w, h * w);
    }

    public void Dispose() => _values.Dispose();
}
