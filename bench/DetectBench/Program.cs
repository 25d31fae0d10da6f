using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using SiteWatch.Core.Detection;
using SiteWatch.Gdal;
using SiteWatch.Demo.Models;

// Detection throughput driver, run by bench/detect-throughput.sh.
//   make-scene PATH SIZE        a SIZE x SIZE 4-band (blue, green, red, nir) uint16 GeoTIFF at 0.9 m (the demo's GSD)
//   stand-in-model PATH [CLASSES]  a YOLO-shaped ONNX (640 input, [1, 4+C, 6400] output) of a few strided convolutions,
//                               for timing the pipeline until the trained default model exists
//   dump SCENE MODEL OUT        writes every detection (pixel box, score) to OUT, to check that results stay identical
//   run SCENE MODEL [RUNS]      whole-scene tiled detection vs the same number of bare ONNX Runtime runs (baseline)
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: DetectBench make-scene PATH SIZE | stand-in-model PATH [CLASSES] | run SCENE MODEL [RUNS]");
    return 2;
}
switch (args[0])
{
    case "make-scene":
        MakeScene(args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
        return 0;
    case "stand-in-model":
        File.WriteAllBytes(args[1], StandInModel(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5));
        return 0;
    case "dump":
        // Every detection's pixel box and score, round-trippable, one a line: for checking that a change keeps results identical.
        using (var model = DetectorModel.Load(args[2]))
        {
            var result = SceneObjectDetector.Detect(args[1], model, new SceneDetectionOptions());
            File.WriteAllLines(args[3], result.Detections.Select(d => FormattableString.Invariant(
                $"{d.ClassName} {d.Score:R} {d.Pixel.CentreX:R} {d.Pixel.CentreY:R} {d.Pixel.Width:R} {d.Pixel.Height:R} {d.Pixel.AngleRadians:R} {d.AreaSquareMetres:R}")));
        }
        return 0;
    case "run":
        Run(args[1], args[2], args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3);
        return 0;
    default:
        Console.Error.WriteLine($"unknown command {args[0]}");
        return 2;
}

static void MakeScene(string path, int size)
{
    var profile = new RasterProfile(size, size, 4, RasterDataType.UInt16)
    {
        GeoTransform = GeoTransform.NorthUp(371_000, 4_422_000, 0.9),
        Crs = "EPSG:32652",
        NoData = 0,
        BandDescriptions = ["blue", "green", "red", "nir"],
    };
    using var raster = RasterDataset.Create(path, profile, creationOptions: ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=DEFLATE"]);
    var rows = 256;
    var data = new ushort[size * rows];
    var rng = new Random(7);
    for (var b = 1; b <= 4; b++)
    {
        for (var r0 = 0; r0 < size; r0 += rows)
        {
            var h = Math.Min(rows, size - r0);
            for (var r = 0; r < h; r++)
            {
                for (var c = 0; c < size; c++)
                {
                    var y = r0 + r;
                    // Fields, roads every 200 px and bright roofs: image-like statistics for the percentile stretch.
                    var field = 900 + 150 * b + 300 * Math.Sin(c * 0.013 + b) * Math.Cos(y * 0.017);
                    var road = c % 200 < 6 || y % 200 < 6 ? 1500 : 0;
                    var roof = (c / 37 + y / 29) % 11 == 0 ? 2500 : 0;
                    data[r * size + c] = (ushort)Math.Clamp(field + road + roof + rng.Next(-60, 60), 1, 65535);
                }
            }
            raster.Write<ushort>(b, new RasterWindow(0, r0, size, h), data.AsSpan(0, size * h));
        }
    }
}

static byte[] StandInModel(int classes)
{
    var rng = new Random(1);
    float[] Weights(int n, double scale) => [.. Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale))];
    var b = new OnnxGraphBuilder("stand-in-yolo");
    b.AddInput("images", [1, 3, 640, 640]);
    var channels = new[] { 3, 32, 64, 128 };
    var x = "images";
    for (var i = 1; i < channels.Length; i++)
    {
        b.AddInitializer($"w{i}", [channels[i], channels[i - 1], 3, 3], Weights(channels[i] * channels[i - 1] * 9, 0.2));
        b.AddInitializer($"b{i}", [channels[i]], Weights(channels[i], 0.1));
        b.AddNode("Conv", [x, $"w{i}", $"b{i}"], [$"c{i}"], OnnxAttribute.Ints("kernel_shape", 3, 3), OnnxAttribute.Ints("strides", 2, 2), OnnxAttribute.Ints("pads", 1, 1, 1, 1));
        b.AddNode("Relu", [$"c{i}"], [$"r{i}"]);
        x = $"r{i}";
    }
    var outputs = 4 + classes;
    b.AddInitializer("head_w", [outputs, channels[^1], 1, 1], Weights(outputs * channels[^1], 0.05));
    // Box channels around 0.5 (x 640 below), class logits near -6: few candidates, as on an empty scene.
    b.AddInitializer("head_b", [outputs], [.. Enumerable.Range(0, outputs).Select(i => i < 4 ? 0f : -6f)]);
    b.AddNode("Conv", [x, "head_w", "head_b"], ["head"], OnnxAttribute.Ints("kernel_shape", 1, 1));
    b.AddNode("Sigmoid", ["head"], ["prob"]);
    b.AddInitializer("shape", [3], [1L, outputs, 6400L]);
    b.AddNode("Reshape", ["prob", "shape"], ["flat"]);
    b.AddInitializer("scale", [1, outputs, 1], [.. Enumerable.Range(0, outputs).Select(i => i < 4 ? 640f : 1f)]);
    b.AddNode("Mul", ["flat", "scale"], ["output0"]);
    b.AddOutput("output0", [1, outputs, 6400]);
    var names = string.Join(", ", Enumerable.Range(0, classes).Select(i => $"{i}: 'class{i}'"));
    return b.ToModelBytes(metadata: new Dictionary<string, string> { ["names"] = $"{{{names}}}", ["imgsz"] = "[640, 640]", ["task"] = "detect" });
}

static void Run(string scene, string modelPath, int runs)
{
    using var model = DetectorModel.Load(modelPath);

    // Baseline: the same number of bare session runs on one prepared tile, same session settings, nothing else.
    using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
    options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
    using var session = new InferenceSession(modelPath, options);
    var input = new float[3 * model.InputWidth * model.InputHeight];
    for (var k = 0; k < input.Length; k++)
    {
        input[k] = (k % 977) / 977f;
    }
    double Bare(int count)
    {
        var clock = Stopwatch.StartNew();
        for (var t = 0; t < count; t++)
        {
            using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, model.InputHeight, model.InputWidth]);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, [model.InputName], [value], [model.OutputName]);
        }
        return clock.Elapsed.TotalSeconds;
    }
    // Warm both sessions up (first runs allocate their arenas), then interleave: pipeline, baseline, pipeline, ...
    Bare(2);
    model.Detect(input, model.InputWidth, model.InputHeight, new DetectorOptions());
    // One uncounted pipeline run: first-use costs (JIT, GDAL and PROJ set-up) are not tiling overhead.
    SceneObjectDetector.Detect(scene, model, new SceneDetectionOptions());
    Console.WriteLine($"load before: {File.ReadAllText("/proc/loadavg").Trim()}");
    var pipeline = new List<SceneDetections>();
    var bare = new List<double>();
    var pipelineCpu = new List<double>();
    var bareCpu = new List<double>();
    var process = Process.GetCurrentProcess();
    double Cpu()
    {
        process.Refresh();
        return process.TotalProcessorTime.TotalSeconds;
    }
    for (var i = 0; i < runs; i++)
    {
        var cpu0 = Cpu();
        pipeline.Add(SceneObjectDetector.Detect(scene, model, new SceneDetectionOptions()));
        var cpu1 = Cpu();
        bare.Add(Bare(pipeline[^1].TilesRun));
        var cpu2 = Cpu();
        pipelineCpu.Add(cpu1 - cpu0);
        bareCpu.Add(cpu2 - cpu1);
        Console.WriteLine(FormattableString.Invariant($"run {i + 1}: pipeline {pipeline[^1].TotalSeconds:0.00} s (ONNX Runtime {pipeline[^1].InferenceSeconds:0.00} s, CPU {pipelineCpu[^1]:0.00} s), bare runs {bare[^1]:0.00} s (CPU {bareCpu[^1]:0.00} s), ratio {pipeline[^1].TotalSeconds / bare[^1]:0.00}"));
    }
    Console.WriteLine($"load after:  {File.ReadAllText("/proc/loadavg").Trim()}");
    var tiles = pipeline[0].TilesRun;
    static double Median(IEnumerable<double> v) => v.Order().ElementAt((v.Count() - 1) / 2);
    var total = Median(pipeline.Select(p => p.TotalSeconds));
    var inference = Median(pipeline.Select(p => p.InferenceSeconds));
    var baseline = Median(bare);
    var km2 = pipeline[0].ScannedSquareKilometres;
    Console.WriteLine(FormattableString.Invariant($"scene {Path.GetFileName(scene)}: {km2:0.###} km², {tiles} tiles of {model.InputWidth} x {model.InputHeight}, {pipeline[0].Detections.Count} detections; median of {runs} runs"));
    Console.WriteLine(FormattableString.Invariant($"{"",-52} {"seconds",9} {"km²/s",9}"));
    Console.WriteLine(FormattableString.Invariant($"{"whole scene: read + scale + infer + decode + merge",-52} {total,9:0.00} {km2 / total,9:0.000}"));
    Console.WriteLine(FormattableString.Invariant($"{"  of which inside ONNX Runtime",-52} {inference,9:0.00}"));
    Console.WriteLine(FormattableString.Invariant($"{"baseline: bare session runs, same count (no tiling)",-52} {baseline,9:0.00} {km2 / baseline,9:0.000}"));
    Console.WriteLine(FormattableString.Invariant($"overhead ratio whole scene / bare inference: {total / baseline:0.00} (median of the per-run ratios {Median(pipeline.Select((p, i) => p.TotalSeconds / bare[i])):0.00}; CPU time {Median(pipelineCpu) / Median(bareCpu):0.00})"));
}
