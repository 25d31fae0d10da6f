using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;

namespace SiteWatch.Core.Detection;

/// <summary>
/// An object-detection model in the layouts Ultralytics YOLO (v8 / v11) exports to ONNX: one float image input
/// [1, 3, H, W] on 0..1 and one output [1, 4 + classes, N] (axis-aligned boxes: cx, cy, w, h, then per-class scores)
/// or [1, 4 + classes + 1, N] (oriented boxes: the same, then the angle in radians). Class names, input size and task
/// come from the model's metadata (`names`, `imgsz`, `task`, as Ultralytics writes them), else from a side-car JSON
/// next to the model (MODEL.json: names, imgsz [h, w], task, bands, scale). Sessions are shared by every caller
/// (ONNX Runtime's Run is thread-safe); one per device, made on first use.
/// </summary>
public sealed partial class DetectorModel : IDisposable
{
    /// <summary>File name of the default model in the application's models/ folder.</summary>
    public const string DefaultModelFileName = "sitewatch-objects.onnx";

    /// <summary>The shipped detector for drone video frames (vehicles and people seen from a few hundred metres).</summary>
    public const string DroneModelFileName = "sitewatch-drone.onnx";

    private readonly Dictionary<string, InferenceSession> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _sessionLock = new();
    private readonly int _channels;

    private DetectorModel(string path, InferenceSession cpu, string inputName, string outputName, int channels, ModelDescription description)
    {
        ModelPath = path;
        _sessions["cpu"] = cpu;
        InputName = inputName;
        OutputName = outputName;
        _channels = channels;
        ClassNames = description.Names;
        Task = description.Task;
        InputHeight = description.Height;
        InputWidth = description.Width;
        Bands = description.Bands;
        Scaling = description.Scaling;
        NamesFrom = description.NamesFrom;
        ScoreThreshold = description.ScoreThreshold ?? new DetectorOptions().ScoreThreshold;
        TrackHighScore = description.TrackHighScore;
        NewTrackScore = description.NewTrackScore;
        GroundSampleDistance = description.GroundSampleDistance;
        ModelClassMap = description.ClassMap;
        _defaultMapping = ClassMapping.Build(ClassNames, ModelClassMap, null, path);
    }

    /// <summary>
    /// Metres per pixel of the imagery the model was trained on (metadata or side-car `gsd`), or null when unknown.
    /// Scenes of another resolution are resampled to it tile by tile (see <see cref="SceneObjectDetector"/>), so a
    /// 0.3 m scene and a 0.9 m model meet at the model's scale.
    /// </summary>
    public double? GroundSampleDistance { get; }

    /// <summary>The model's own `class_map` (side-car, else metadata: model class -> reported class; empty drops the class), or empty.</summary>
    public IReadOnlyDictionary<string, string> ModelClassMap { get; }

    private readonly ClassMapping _defaultMapping;
    private volatile CachedMapping? _lastMapping;

    private sealed record CachedMapping(IReadOnlyDictionary<string, string> Key, ClassMapping Mapping);

    /// <summary>
    /// The classes detections are reported as for these options: the model's names through its side-car map and
    /// then the caller's <see cref="DetectorOptions.ClassMap"/> (which wins per class).
    /// </summary>
    public ClassMapping Classes(DetectorOptions options)
    {
        if (options.ClassMap is not { Count: > 0 } map)
        {
            return _defaultMapping;
        }
        if (_lastMapping is { } last && ReferenceEquals(last.Key, map))
        {
            return last.Mapping;
        }
        var mapping = ClassMapping.Build(ClassNames, ModelClassMap, map, ModelPath);
        _lastMapping = new CachedMapping(map, mapping);
        return mapping;
    }

    /// <summary>
    /// The score threshold to use when the user gives none: the model's own `score_threshold` metadata (its makers
    /// chose it on held-out data), else 0.25 as Ultralytics uses.
    /// </summary>
    public float ScoreThreshold { get; }

    /// <summary>
    /// The score from which a tracker associates this model's detections first (metadata `track_high_thresh`, the name
    /// Ultralytics' ByteTrack settings use), or null for the tracker's own. A model's scores are its own scale: gates
    /// set for one detector's confidences start no track on a model that is rightly less sure of small objects.
    /// </summary>
    public double? TrackHighScore { get; }

    /// <summary>The score from which an unmatched detection starts a track (metadata `new_track_thresh`), or null.</summary>
    public double? NewTrackScore { get; }

    /// <summary>
    /// The detector shipped with SiteWatch (models/sitewatch-objects.onnx beside the application, or
    /// $SITEWATCH_DETECTOR_ONNX when set), or null when this build has none.
    /// </summary>
    public static string? DefaultModelPath => ShippedModel.Find("SITEWATCH_DETECTOR_ONNX", DefaultModelFileName);

    /// <summary>The default drone-frame detector: $SITEWATCH_DRONE_ONNX, else models/ beside the program; null when neither exists.</summary>
    public static string? DroneModelPath => ShippedModel.Find("SITEWATCH_DRONE_ONNX", DroneModelFileName);

    public string ModelPath { get; }
    public string InputName { get; }
    public string OutputName { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public DetectorTask Task { get; }
    public int InputWidth { get; }
    public int InputHeight { get; }

    /// <summary>Scene bands (names such as red, green, blue, nir, or 1-based numbers) feeding the model's 3 channels, in order.</summary>
    public IReadOnlyList<string> Bands { get; }

    public InputScaling Scaling { get; }

    /// <summary>Where the class names came from: "metadata", "side-car" or "generated" (class0, class1, ...).</summary>
    public string NamesFrom { get; }

    /// <summary>Loads and checks a model; every problem with the file is a <see cref="SiteWatchException"/> naming it.</summary>
    public static DetectorModel Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new SiteWatchException($"{path}: model file not found");
        }
        InferenceSession session;
        try
        {
            session = CreateSession(File.ReadAllBytes(full), "cpu", full);
        }
        catch (OnnxRuntimeException e)
        {
            throw new SiteWatchException($"{path}: not a model ONNX Runtime can load: {e.Message}", e);
        }
        try
        {
            var input = session.InputMetadata.FirstOrDefault();
            if (input.Value is not { } inMeta || session.InputMetadata.Count != 1 || inMeta.ElementType != typeof(float) || inMeta.Dimensions.Length != 4
                || inMeta.Dimensions[1] is not (3 or -1))
            {
                throw new SiteWatchException($"{path}: the model needs a float image input [1, 3, H, W]; it has {Describe(session.InputMetadata)}");
            }
            var output = session.OutputMetadata.First();
            var dims = output.Value.Dimensions;
            if (output.Value.ElementType != typeof(float) || dims.Length != 3 || dims[0] is not (1 or -1) || dims[1] is >= 0 and < 5)
            {
                throw LayoutError(path, output.Key, [.. dims.Select(d => (long)d)]);
            }
            var description = Describe(full, session.ModelMetadata.CustomMetadataMap, inMeta.Dimensions, dims[1]);
            return new DetectorModel(full, session, input.Key, output.Key, dims[1], description);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates the session for <paramref name="device"/> now, so that a missing GPU or CUDA provider is reported
    /// before any work starts. <see cref="Detect"/> does the same on first use.
    /// </summary>
    public void Prepare(string device) => Session(device);

    /// <summary>
    /// Detects objects in one image given as 3 planes (the model's channels) of width x height values already scaled
    /// to 0..1. Images of another size than the model's input are letterboxed (aspect kept, padded with 114/255) and
    /// the detections mapped back to the image's pixels.
    /// </summary>
    public IReadOnlyList<PixelDetection> Detect(ReadOnlySpan<float> chw, int width, int height, DetectorOptions options) =>
        Detect(chw, width, height, options, out _);

    internal IReadOnlyList<PixelDetection> Detect(ReadOnlySpan<float> chw, int width, int height, DetectorOptions options, out double inferenceSeconds)
    {
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (chw.Length != 3L * width * height)
        {
            throw new ArgumentException($"Expected 3 x {width} x {height} values, got {chw.Length}.", nameof(chw));
        }
        var session = Session(options.Device);
        var box = Letterbox.For(width, height, InputWidth, InputHeight);
        var input = box.Apply(chw, width, height);
        using var value = CreateInput(input);
        using var runOptions = new RunOptions();
        return Run(session, value, runOptions, box, width, height, options, out inferenceSeconds);
    }

    /// <summary>
    /// An input tensor over <paramref name="buffer"/> (3 planes of InputWidth x InputHeight, pinned while the value
    /// lives): fill the buffer, then <see cref="DetectInput"/>, as many times as needed without allocating.
    /// </summary>
    internal OrtValue CreateInput(float[] buffer)
    {
        if (buffer.Length != 3L * InputWidth * InputHeight)
        {
            throw new ArgumentException($"Expected 3 x {InputWidth} x {InputHeight} values, got {buffer.Length}.", nameof(buffer));
        }
        return OrtValue.CreateTensorValueFromMemory(buffer, [1, 3, InputHeight, InputWidth]);
    }

    /// <summary>
    /// <see cref="Detect(ReadOnlySpan{float}, int, int, DetectorOptions)"/> on an image of exactly the model's input
    /// size already in an input tensor from <see cref="CreateInput"/> (the letterbox is the identity); options validated by the caller.
    /// </summary>
    internal IReadOnlyList<PixelDetection> DetectInput(OrtValue input, RunOptions runOptions, DetectorOptions options, out double inferenceSeconds) =>
        Run(Session(options.Device), input, runOptions, Letterbox.For(InputWidth, InputHeight, InputWidth, InputHeight), InputWidth, InputHeight, options, out inferenceSeconds);

    private List<PixelDetection> Run(InferenceSession session, OrtValue value, RunOptions runOptions, Letterbox box, int width, int height, DetectorOptions options, out double inferenceSeconds)
    {
        var clock = Stopwatch.StartNew();
        using var outputs = session.Run(runOptions, [InputName], [value], [OutputName]);
        inferenceSeconds = clock.Elapsed.TotalSeconds;
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != 3 || shape[0] != 1 || shape[1] != ExpectedChannels)
        {
            throw LayoutError(ModelPath, OutputName, shape);
        }
        var candidates = YoloDecoder.Decode(outputs[0].GetTensorDataAsSpan<float>(), (int)shape[2], ClassNames, Task, options.ScoreThreshold, box, width, height);
        // Mapped before NMS: two model classes reported as one (DOTA's small- and large-vehicle as vehicle) are
        // one object when their boxes overlap.
        candidates = Classes(options).Apply(candidates);
        return BoxOverlap.NonMaximumSuppression(candidates, options.IouThreshold, options.MaxDetections);
    }

    private int ExpectedChannels => 4 + ClassNames.Count + (Task == DetectorTask.Obb ? 1 : 0);

    private InferenceSession Session(string device)
    {
        lock (_sessionLock)
        {
            ObjectDisposedException.ThrowIf(_sessions.Count == 0, this);
            if (!_sessions.TryGetValue(device, out var session))
            {
                if (device != "cuda")
                {
                    throw SiteWatchException.About("device", $"'{device}' is not a device; use cpu or cuda");
                }
                var providers = OrtEnv.Instance().GetAvailableProviders();
                if (!providers.Contains("CUDAExecutionProvider"))
                {
                    throw SiteWatchException.About("device", $"cuda needs ONNX Runtime's CUDA execution provider, which this build lacks (it has {string.Join(", ", providers)}); use cpu for {ModelPath}");
                }
                try
                {
                    session = CreateSession(File.ReadAllBytes(ModelPath), device, ModelPath);
                }
                catch (OnnxRuntimeException e)
                {
                    throw new SiteWatchException($"{ModelPath}: cannot run on the GPU (CUDA execution provider): {e.Message}", e);
                }
                _sessions[device] = session;
            }
            return session;
        }
    }

    private static InferenceSession CreateSession(byte[] model, string device, string path)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            LogId = Path.GetFileName(path),
        };
        // Between runs the caller reads and scales tiles on the same cores: idle ORT threads should sleep, not spin.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (device == "cuda")
        {
            options.AppendExecutionProvider_CUDA(0);
        }
        return new InferenceSession(model, options);
    }

    private static SiteWatchException LayoutError(string path, string output, IReadOnlyList<long> dims) =>
        new($"{path}: output '{output}' has shape [{string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)))}]; "
            + "expected [1, 4+classes, N] (YOLO detect) or [1, 4+classes+1, N] (YOLO OBB)");

    private static string Describe(IReadOnlyDictionary<string, NodeMetadata> inputs) =>
        string.Join(", ", inputs.Select(kv => $"'{kv.Key}' {kv.Value.ElementType.Name}[{string.Join(", ", kv.Value.Dimensions)}]"));

    public void Dispose()
    {
        lock (_sessionLock)
        {
            foreach (var s in _sessions.Values)
            {
                s.Dispose();
            }
            _sessions.Clear();
        }
    }

    // ---- class names, input size, task, bands and scaling: metadata first, then the side-car ----

    private sealed record ModelDescription(IReadOnlyList<string> Names, string NamesFrom, DetectorTask Task, int Height, int Width, IReadOnlyList<string> Bands, InputScaling Scaling)
    {
        public float? ScoreThreshold { get; init; }
        public double? TrackHighScore { get; init; }
        public double? NewTrackScore { get; init; }
        public double? GroundSampleDistance { get; init; }
        public IReadOnlyDictionary<string, string> ClassMap { get; init; } = new Dictionary<string, string>();
    }

    private sealed record SideCar(IReadOnlyList<string>? Names, int[]? ImageSize, string? Task, IReadOnlyList<string>? Bands, InputScaling? Scaling)
    {
        public double? GroundSampleDistance { get; init; }
        public IReadOnlyDictionary<string, string>? ClassMap { get; init; }
    }

    /// <summary>The side-car file of a model: MODEL.json beside MODEL.onnx.</summary>
    public static string SideCarPath(string modelPath) => ModelSideCar.PathOf(modelPath);

    private static ModelDescription Describe(string path, IReadOnlyDictionary<string, string> metadata, int[] inputDims, int channels)
    {
        var sideCar = ReadSideCar(path);
        IReadOnlyList<string>? names = null;
        var namesFrom = "generated";
        if (metadata.TryGetValue("names", out var namesText))
        {
            names = ParseNames(namesText, path);
            namesFrom = "metadata";
        }
        else if (sideCar?.Names is { } n)
        {
            names = n;
            namesFrom = "side-car";
        }

        string? taskText = metadata.TryGetValue("task", out var t) ? t : sideCar?.Task;
        DetectorTask? task = taskText?.Trim().ToLowerInvariant() switch
        {
            null => null,
            "detect" => DetectorTask.Detect,
            "obb" => DetectorTask.Obb,
            var other => throw new SiteWatchException($"{path}: task '{other}' is not supported; use a detect or obb model"),
        };

        if (channels > 0)
        {
            if (names is null)
            {
                var count = channels - 4 - (task == DetectorTask.Obb ? 1 : 0);
                names = [.. Enumerable.Range(0, count).Select(i => $"class{i}")];
            }
            var detectChannels = 4 + names.Count;
            task ??= channels == detectChannels ? DetectorTask.Detect : channels == detectChannels + 1 ? DetectorTask.Obb : null;
            var expected = detectChannels + (task == DetectorTask.Obb ? 1 : 0);
            if (task is null || channels != expected)
            {
                throw new SiteWatchException($"{path}: {names.Count} class names ({namesFrom}) do not match the output's {channels} channels "
                    + $"(a detect model with {names.Count} classes has {detectChannels}, an OBB model {detectChannels + 1})");
            }
        }
        else if (names is null)
        {
            throw new SiteWatchException($"{path}: the output's channel count is dynamic and no class names are given (metadata 'names' or {Path.GetFileName(SideCarPath(path))})");
        }

        int[]? size = metadata.TryGetValue("imgsz", out var imgsz) ? ParseImageSize(imgsz, path) : null;
        size ??= inputDims[2] > 0 && inputDims[3] > 0 ? [inputDims[2], inputDims[3]] : sideCar?.ImageSize;
        size ??= [640, 640];
        if (inputDims[2] > 0 && inputDims[2] != size[0] || inputDims[3] > 0 && inputDims[3] != size[1])
        {
            throw new SiteWatchException($"{path}: image size {size[0]} x {size[1]} from the metadata differs from the input's fixed {inputDims[2]} x {inputDims[3]}");
        }

        var bands = sideCar?.Bands ?? (metadata.TryGetValue("bands", out var b) ? ParseStringArray(b, path, "bands") : null) ?? ["red", "green", "blue"];
        if (bands.Count != 3)
        {
            throw new SiteWatchException($"{path}: {bands.Count} bands given; the model takes 3");
        }
        var scaling = sideCar?.Scaling ?? (metadata.TryGetValue("scale", out var sc) ? ParseScaling(sc, path) : null) ?? InputScaling.Auto;
        float? score = null;
        if (metadata.TryGetValue("score_threshold", out var st))
        {
            score = float.TryParse(st, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && v is > 0 and < 1
                ? v
                : throw new SiteWatchException($"{path}: metadata score_threshold '{Truncate(st)}' is not a number between 0 and 1");
        }
        var gsd = sideCar?.GroundSampleDistance;
        if (gsd is null && metadata.TryGetValue("gsd", out var g))
        {
            gsd = double.TryParse(g, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && v is > 0 and < 10_000
                ? v
                : throw new SiteWatchException($"{path}: metadata gsd '{Truncate(g)}' is not a ground sample distance in metres");
        }
        double? Gate(string key) => !metadata.TryGetValue(key, out var text) ? null
            : double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && v is > 0 and < 1
                ? v
                : throw new SiteWatchException($"{path}: metadata {key} '{Truncate(text)}' is not a score between 0 and 1");
        var (trackHigh, newTrack) = (Gate("track_high_thresh"), Gate("new_track_thresh"));
        if (trackHigh > newTrack)
        {
            throw new SiteWatchException($"{path}: metadata new_track_thresh {newTrack} is below track_high_thresh {trackHigh} (a track starts only from a detection matched first)");
        }
        return new ModelDescription(names, namesFrom, task ?? DetectorTask.Detect, size[0], size[1], bands, scaling)
        {
            ScoreThreshold = score,
            TrackHighScore = trackHigh,
            NewTrackScore = newTrack,
            GroundSampleDistance = gsd,
            // A side-car's map wins over the one the model was exported with, as its other fields do.
            ClassMap = sideCar?.ClassMap ?? (metadata.TryGetValue("class_map", out var cm) ? ParseClassMap(cm, path) : new Dictionary<string, string>()),
        };
    }

    [GeneratedRegex("""(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")""")]
    private static partial Regex PythonDictEntry();

    /// <summary>Ultralytics' names metadata is a Python dict repr: {0: 'plane', 1: "ship's boat"}; a JSON list works too.</summary>
    internal static IReadOnlyList<string> ParseNames(string text, string path)
    {
        if (text.TrimStart().StartsWith('['))
        {
            return ParseStringArray(text, path, "names");
        }
        var entries = PythonDictEntry().Matches(text)
            .Select(m => (Id: int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                Name: Regex.Unescape(m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value)))
            .OrderBy(e => e.Id)
            .ToList();
        if (entries.Count == 0 || entries.Select((e, i) => e.Id == i).Any(ok => !ok))
        {
            throw new SiteWatchException($"{path}: class names '{Truncate(text)}' are not a dict of ids 0..N-1 to names");
        }
        return [.. entries.Select(e => e.Name)];
    }

    private static int[] ParseImageSize(string text, string path)
    {
        var numbers = Regex.Matches(text, @"\d+").Select(m => int.Parse(m.Value, CultureInfo.InvariantCulture)).ToArray();
        return numbers switch
        {
            [var s] when s > 0 => [s, s],
            [var h, var w] when h > 0 && w > 0 => [h, w],
            _ => throw new SiteWatchException($"{path}: image size '{Truncate(text)}' is not [height, width]"),
        };
    }

    private static IReadOnlyList<string> ParseStringArray(string json, string path, string what)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return ReadStrings(doc.RootElement, path, what);
        }
        catch (JsonException e)
        {
            throw new SiteWatchException($"{path}: {what} '{Truncate(json)}' is not a JSON list: {e.Message}", e);
        }
    }

    private static InputScaling ParseScaling(string json, string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return ReadScaling(doc.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new SiteWatchException($"{path}: scale '{Truncate(json)}' is not a JSON object: {e.Message}", e);
        }
    }

    private static SideCar? ReadSideCar(string modelPath) => ModelSideCar.Read(modelPath, "model side-car", (root, path) =>
    {
        IReadOnlyList<string>? names = null;
        if (root.TryGetProperty("names", out var n))
        {
            names = n.ValueKind == JsonValueKind.Object
                ? ParseNames(string.Join(", ", n.EnumerateObject().Select(p => $"{p.Name}: {JsonSerializer.Serialize(p.Value.GetString())}")), path)
                : ReadStrings(n, path, "names");
        }
        int[]? size = root.TryGetProperty("imgsz", out var s) ? ParseImageSize(s.GetRawText(), path) : null;
        var task = root.TryGetProperty("task", out var t) ? t.GetString() : null;
        var bands = root.TryGetProperty("bands", out var b) ? ReadStrings(b, path, "bands") : null;
        var scaling = root.TryGetProperty("scale", out var sc) ? ReadScaling(sc, path) : null;
        double? gsd = null;
        if (root.TryGetProperty("gsd", out var g))
        {
            gsd = g.ValueKind == JsonValueKind.Number && g.GetDouble() is > 0 and < 10_000 and var v
                ? v
                : throw new SiteWatchException($"{path}: gsd must be the training imagery's metres per pixel (a positive number)");
        }
        var classMap = root.TryGetProperty("class_map", out var cm) ? ReadClassMap(cm, path) : null;
        return new SideCar(names, size, task, bands, scaling) { GroundSampleDistance = gsd, ClassMap = classMap };
    });

    /// <summary>A class_map (side-car member or metadata value): model class -> reported class, "" or null dropping it.</summary>
    private static Dictionary<string, string> ReadClassMap(JsonElement cm, string path)
    {
        if (cm.ValueKind != JsonValueKind.Object)
        {
            throw new SiteWatchException($"{path}: class_map must be an object of model class -> reported class (\"\" or null drops the class)");
        }
        var classMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in cm.EnumerateObject())
        {
            classMap[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.Null => "",
                JsonValueKind.String => p.Value.GetString()!.Trim(),
                _ => throw new SiteWatchException($"{path}: class_map.{p.Name} must be a class name, \"\" or null"),
            };
        }
        return classMap;
    }

    private static Dictionary<string, string> ParseClassMap(string json, string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return ReadClassMap(doc.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new SiteWatchException($"{path}: metadata class_map '{Truncate(json)}' is not a JSON object: {e.Message}", e);
        }
    }

    internal static List<string> ReadStrings(JsonElement e, string path, string what)
    {
        if (e.ValueKind != JsonValueKind.Array || e.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(x.GetString())))
        {
            throw new SiteWatchException($"{path}: {what} must be a list of non-empty strings");
        }
        return [.. e.EnumerateArray().Select(x => x.GetString()!.Trim())];
    }

    internal static InputScaling ReadScaling(JsonElement e, string path)
    {
        var kind = e.TryGetProperty("kind", out var k) ? k.GetString()?.Trim().ToLowerInvariant() : null;
        double Number(string name, double fallback) => e.TryGetProperty(name, out var v) ? v.GetDouble() : fallback;
        var scaling = kind switch
        {
            "percentile" => new InputScaling("percentile", Number("low", 2), Number("high", 98)),
            "range" when e.TryGetProperty("low", out _) && e.TryGetProperty("high", out _) => new InputScaling("range", Number("low", 0), Number("high", 0)),
            "auto" => InputScaling.Auto,
            _ => throw new SiteWatchException($"{path}: scale must be {{\"kind\": \"percentile\", \"low\": 2, \"high\": 98}}, {{\"kind\": \"range\", \"low\": L, \"high\": H}} or {{\"kind\": \"auto\"}}"),
        };
        if (!(scaling.High > scaling.Low) || scaling.Kind == "percentile" && (scaling.Low < 0 || scaling.High > 100))
        {
            throw new SiteWatchException($"{path}: scale {scaling.Kind} needs low < high{(scaling.Kind == "percentile" ? " within 0..100" : "")}");
        }
        return scaling;
    }

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
