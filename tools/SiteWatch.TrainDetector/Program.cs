using System.Diagnostics;
using System.Globalization;
using SiteWatch.TrainDetector;
using SiteWatch.Training;

// Usage (see tools/SiteWatch.TrainDetector/README.md):
//   train  --out DIR [--kind objects|drone] [--seeds 1,2,3] [--steps 1200] [--batch 8] [--tile 256] [--balance-classes 1]
//          drone only: [--seconds 20] [--fps 2] (simulated flights per seed, kept under DIR/flights)
//                      [--gsd 0.4] (metres per pixel frames are brought to; give export the same)
//                      [--extra-people N] (people walking near the crossing besides the scenario's group)
//                      [--random-sun 1] (shadows' bearing and length drawn per flight)
//   export --weights DIR/weights.dat --out MODEL.onnx [--kind objects|drone] [--score 0.35] [--track-high 0.35 --track-new 0.45]
var options = new ToolOptions(args.Skip(1));
string command = args.Length > 0 ? args[0] : "help";
if (command is "help" or "--help" or "-h")
{
    Console.WriteLine("sitewatch-train-detector train --out DIR [--kind objects|drone] [--seeds 1,2,3] [--steps 1200] [--batch 8] [--tile 256] [--balance-classes 1] [--seconds 20] [--fps 2] [--extra-people N] [--random-sun 1] [--gsd 0.4]");
    Console.WriteLine("sitewatch-train-detector export --weights DIR/weights.dat --out MODEL.onnx [--kind objects|drone] [--score THRESHOLD] [--track-high SCORE] [--track-new SCORE] [--gsd 0.4]");
    Console.WriteLine("  --kind objects: the scene detector, trained on demo plant scenes (seeds of the demo generator)");
    Console.WriteLine("  --kind drone: the drone-frame detector, trained on simulated border flights (seeds of the flight simulator)");
    return 0;
}

TorchRuntime.Start(options);
var kind = DetectorKind.Parse(options.Get("kind", "objects"));
if (kind.Name == DetectorKind.Drone.Name && options.Optional("gsd") is { } gsdText)
{
    // The drone model's pixel size: training frames are brought to it, and export writes it to the metadata.
    if (!double.TryParse(gsdText, NumberStyles.Float, CultureInfo.InvariantCulture, out var modelGsd) || !(modelGsd is > 0.01 and < 100))
    {
        Console.Error.WriteLine($"--gsd {gsdText}: give the model's metres per pixel, e.g. 0.4");
        return 2;
    }
    kind = kind with { Gsd = modelGsd };
}

switch (command)
{
    case "train":
    {
        string outDir = options.Required("out");
        Directory.CreateDirectory(outDir);
        int[] seeds = options.Ints("seeds", "1,2,3");
        var training = new TrainingOptions(
            Tile: options.Int("tile", 256),
            Batch: options.Int("batch", 8),
            Steps: options.Int("steps", 1200),
            BalanceClasses: options.Int("balance-classes", 0) != 0);
        var clock = Stopwatch.StartNew();
        var scenes = kind.Name == DetectorKind.Drone.Name
            ? seeds.SelectMany(seed => DroneFrames.Simulate(seed, Path.Combine(outDir, "flights"),
                double.Parse(options.Get("seconds", "20"), CultureInfo.InvariantCulture),
                double.Parse(options.Get("fps", "2"), CultureInfo.InvariantCulture), Console.Out,
                options.Int("extra-people", 0), options.Int("random-sun", 0) != 0, kind.Gsd!.Value)).ToList()
            : seeds.SelectMany(seed => TrainingScenes.Render(seed)).ToList();
        Console.WriteLine($"rendered {scenes.Count} images ({scenes.Sum(s => s.Boxes.Count)} labels) from seeds {string.Join(",", seeds)} in {clock.Elapsed.TotalSeconds:F0} s");
        foreach (var (name, id) in kind.ClassNames.Select((n, i) => (n, i)))
        {
            Console.WriteLine($"  {name}: {scenes.Sum(s => s.Boxes.Count(b => b.ClassId == id))}");
        }
        var net = kind.NewNet();
        new Trainer(net, scenes, training).Run(Console.Out);
        string weights = Path.Combine(outDir, "weights.dat");
        net.save(weights);
        Console.WriteLine($"wrote {weights} after {clock.Elapsed.TotalMinutes:F1} min");
        return 0;
    }
    case "export":
    {
        var net = kind.NewNet();
        net.load(options.Required("weights"));
        net.eval();
        string output = options.Required("out");
        int tile = options.Int("tile", 256);
        var metadata = new Dictionary<string, string>();
        if (options.Optional("score") is { } score)
        {
            metadata["score_threshold"] = score; // chosen on held-out data (bench/detector-eval.sh, bench/drone-eval.sh)
        }
        // The tracker's gates for this model's scores (bench/DroneEval --track-high/--track-new on validation flights).
        if (options.Optional("track-high") is { } high)
        {
            metadata["track_high_thresh"] = high;
        }
        if (options.Optional("track-new") is { } fresh)
        {
            metadata["new_track_thresh"] = fresh;
        }
        OnnxExport.Write(net, tile, output, kind, metadata);
        var probe = kind.Name == DetectorKind.Drone.Name
            ? DroneFrames.Simulate(999, Path.Combine(Path.GetTempPath(), "sitewatch-export-probe"), 1, 1, TextWriter.Null, modelGsd: kind.Gsd!.Value).First()
            : TrainingScenes.Render(42, [0]).First();
        double diff = ExportCheck.MaxDifference(net, output, probe, tile);
        Console.WriteLine($"wrote {output}; ONNX Runtime vs TorchSharp on one tile: max difference {diff:E2}");
        if (diff > 1e-3)
        {
            Console.Error.WriteLine("export check failed: the ONNX graph does not reproduce the network");
            return 1;
        }
        return 0;
    }
    default:
        Console.Error.WriteLine($"unknown command '{command}'; try --help");
        return 2;
}
