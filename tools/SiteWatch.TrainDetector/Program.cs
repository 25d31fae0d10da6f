using System.Diagnostics;
using System.Globalization;
using SiteWatch.TrainDetector;
using TorchSharp;

// Usage (see tools/SiteWatch.TrainDetector/README.md):
//   train  --out DIR [--seeds 1,2,3] [--steps 1200] [--batch 8] [--tile 256]
//   export --weights DIR/weights.dat --out MODEL.onnx [--score 0.35]
var options = ParseOptions(args.Skip(1));
string command = args.Length > 0 ? args[0] : "help";
if (command is "help" or "--help" or "-h")
{
    Console.WriteLine("sitewatch-train-detector train --out DIR [--seeds 1,2,3] [--steps 1200] [--batch 8] [--tile 256]");
    Console.WriteLine("sitewatch-train-detector export --weights DIR/weights.dat --out MODEL.onnx [--score THRESHOLD]");
    return 0;
}

LibTorchSharpLoader.PrepareNativeLibraries();
torch.set_num_threads(int.Parse(Get(options, "threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture));
torch.manual_seed(1);

switch (command)
{
    case "train":
    {
        string outDir = Required(options, "out");
        Directory.CreateDirectory(outDir);
        int[] seeds = Get(options, "seeds", "1,2,3").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var training = new TrainingOptions(
            Tile: int.Parse(Get(options, "tile", "256"), CultureInfo.InvariantCulture),
            Batch: int.Parse(Get(options, "batch", "8"), CultureInfo.InvariantCulture),
            Steps: int.Parse(Get(options, "steps", "1200"), CultureInfo.InvariantCulture));
        var clock = Stopwatch.StartNew();
        var scenes = seeds.SelectMany(seed => TrainingScenes.Render(seed)).ToList();
        Console.WriteLine($"rendered {scenes.Count} scenes ({scenes.Sum(s => s.Boxes.Count)} labels) from seeds {string.Join(",", seeds)} in {clock.Elapsed.TotalSeconds:F0} s");
        foreach (var (name, id) in TrainingScenes.ClassNames.Select((n, i) => (n, i)))
        {
            Console.WriteLine($"  {name}: {scenes.Sum(s => s.Boxes.Count(b => b.ClassId == id))}");
        }
        var net = new DetectorNet(TrainingScenes.ClassNames.Length);
        new Trainer(net, scenes, training).Run(Console.Out);
        string weights = Path.Combine(outDir, "weights.dat");
        net.save(weights);
        Console.WriteLine($"wrote {weights} after {clock.Elapsed.TotalMinutes:F1} min");
        return 0;
    }
    case "export":
    {
        var net = new DetectorNet(TrainingScenes.ClassNames.Length);
        net.load(Required(options, "weights"));
        net.eval();
        string output = Required(options, "out");
        int tile = int.Parse(Get(options, "tile", "256"), CultureInfo.InvariantCulture);
        var metadata = new Dictionary<string, string>();
        if (options.TryGetValue("score", out var score))
        {
            metadata["score_threshold"] = score; // chosen on held-out scenes (bench/detector-eval.sh)
        }
        OnnxExport.Write(net, tile, output, metadata);
        var probe = TrainingScenes.Render(42, [0]).First();
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

static Dictionary<string, string> ParseOptions(IEnumerable<string> args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    string? key = null;
    foreach (var a in args)
    {
        if (a.StartsWith("--", StringComparison.Ordinal))
        {
            key = a[2..];
            result[key] = "true";
        }
        else if (key is not null)
        {
            result[key] = a;
            key = null;
        }
    }
    return result;
}

static string Get(Dictionary<string, string> o, string key, string fallback) => o.TryGetValue(key, out var v) ? v : fallback;

static string Required(Dictionary<string, string> o, string key) =>
    o.TryGetValue(key, out var v) ? v : throw new ArgumentException($"--{key} is required");
