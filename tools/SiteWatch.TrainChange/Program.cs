using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SiteWatch.TrainChange;
using SiteWatch.Training;

// Usage (see tools/SiteWatch.TrainChange/README.md).
const string Usage = """
    sitewatch-train-change train --out DIR [--demo-seeds 1,2,...|none] [--naip DIR] [--levir DIR] [--validation-seed 13]
                                 [--steps 3000] [--batch 8] [--tile 128] [--threads N]
    sitewatch-train-change export --weights DIR/weights.dat --out MODEL.onnx [--threshold P] [--tile 256]
      train   learns from the demo generator's pairs (seeds), real NAIP dates under synthetic structures (--naip: a
              folder of GeoTIFFs of one place, red, green, blue in bands 1-3; crops from its left 60 %) and/or pairs
              in the LEVIR-CD layout (--levir: A/, B/, label/); it scores a held-out set (the NAIP's right third, the
              validation seed) every 500 steps and writes DIR/weights.dat and DIR/validation.json
      export  writes MODEL.onnx and its side-car MODEL.json in SiteWatch's change-model contract; the threshold is
              DIR/validation.json's (the best pooled F1 on the held-out set) unless --threshold is given
    """;
var options = new ToolOptions(args.Skip(1));
string command = args.Length > 0 ? args[0] : "help";
if (command is "help" or "--help" or "-h")
{
    Console.WriteLine(Usage);
    return 0;
}

TorchRuntime.Start(options);

switch (command)
{
    case "train":
    {
        string outDir = options.Required("out");
        Directory.CreateDirectory(outDir);
        var clock = Stopwatch.StartNew();
        int tile = options.Int("tile", 128);
        if (tile % ChangeNet.Granularity != 0)
        {
            Console.Error.WriteLine($"--tile must be a multiple of {ChangeNet.Granularity}");
            return 2;
        }
        var sources = new List<IPairSource>();
        var validation = new List<(string, PairSample)>();
        var validationRng = new Random(7);
        string seeds = options.Get("demo-seeds", "1,2,3,4,5,6,7,8,9,10");
        if (seeds != "none")
        {
            sources.Add(new DemoPairs(options.Ints("demo-seeds", seeds), Console.Out));
            var heldSeed = new DemoPairs([options.Int("validation-seed", 13)], Console.Out);
            for (int k = 0; k < 48; k++)
            {
                var sample = new PairSample(tile);
                heldSeed.Draw(validationRng, sample, k * 7, 1 << (k % 3));
                validation.Add(("demo", sample));
            }
        }
        if (options.Optional("naip") is { } naip)
        {
            sources.Add(new NaipPairs(naip, 0, 0.6, Console.Out));
            var heldColumns = new NaipPairs(naip, 0.64, 1, Console.Out);
            for (int k = 0; k < 48; k++)
            {
                var sample = new PairSample(tile);
                heldColumns.Draw(validationRng, sample);
                validation.Add(("naip", sample));
            }
        }
        if (options.Optional("levir") is { } levir)
        {
            sources.Add(new LevirPairs(levir, Console.Out));
        }
        if (sources.Count == 0)
        {
            Console.Error.WriteLine("no training data: give demo seeds, --naip or --levir");
            return 2;
        }
        Console.WriteLine($"data ready in {clock.Elapsed.TotalSeconds:F0} s; {validation.Count} held-out samples");
        var net = new ChangeNet();
        Console.WriteLine($"ChangeNet: {net.parameters().Sum(p => p.numel()):N0} parameters");
        var held = new Validation(validation);
        string weights = Path.Combine(outDir, "weights.dat");
        var training = new ChangeTrainingOptions(Tile: tile, Batch: options.Int("batch", 8), Steps: options.Int("steps", 3000));
        new ChangeTrainer(net, sources, training).Run(Console.Out, step =>
        {
            net.save(weights);
            if (held.Count > 0)
            {
                Console.WriteLine($"checkpoint at step {step}:");
                Validation.Report(held.Score(net), Console.Out, null);
            }
        });
        net.save(weights);
        if (held.Count > 0)
        {
            Console.WriteLine("final:");
            Validation.Report(held.Score(net), Console.Out, Path.Combine(outDir, "validation.json"));
        }
        Console.WriteLine($"wrote {weights} after {clock.Elapsed.TotalMinutes:F1} min");
        return 0;
    }
    case "export":
    {
        var net = new ChangeNet();
        string weights = options.Required("weights");
        net.load(weights);
        net.eval();
        string output = options.Required("out");
        int tile = options.Int("tile", 256);
        double threshold;
        if (options.Optional("threshold") is { } given)
        {
            threshold = double.Parse(given, CultureInfo.InvariantCulture);
        }
        else
        {
            string report = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weights))!, "validation.json");
            using var doc = JsonDocument.Parse(File.ReadAllText(report));
            threshold = doc.RootElement.GetProperty("threshold").GetDouble();
        }
        ChangeExport.Write(net, tile, output, threshold, new Dictionary<string, string>());
        var rng = new Random(3);
        var probe = new float[6 * tile * tile];
        for (int i = 0; i < probe.Length; i++)
        {
            probe[i] = (float)rng.NextDouble();
        }
        double diff = ChangeExport.MaxDifference(net, output, probe, tile);
        Console.WriteLine($"wrote {output} and its side-car (threshold {threshold:F2}); ONNX Runtime vs TorchSharp on one tile: max difference {diff:E2}");
        if (diff > 1e-3)
        {
            Console.Error.WriteLine("export check failed: the ONNX graph does not reproduce the network");
            return 1;
        }
        return 0;
    }
    case "preview":
    {
        // A few augmented training samples per source as PNGs (BEFORE | AFTER | label in red), to look at.
        string outDir = options.Required("out");
        Directory.CreateDirectory(outDir);
        int tile = options.Int("tile", 128);
        var rng = new Random(options.Int("seed", 5));
        var sources = new List<IPairSource>();
        if (options.Optional("demo-seeds") is { } seeds)
        {
            sources.Add(new DemoPairs(options.Ints("demo-seeds", seeds), Console.Out));
        }
        if (options.Optional("naip") is { } naip)
        {
            sources.Add(new NaipPairs(naip, 0, 0.6, Console.Out));
        }
        if (options.Optional("levir") is { } levir)
        {
            sources.Add(new LevirPairs(levir, Console.Out));
        }
        foreach (var source in sources)
        {
            for (int k = 0; k < options.Int("count", 6); k++)
            {
                var sample = new PairSample(tile);
                source.Draw(rng, sample);
                ChangeTrainer.Augment(rng, sample);
                Preview.Write(sample, Path.Combine(outDir, $"{source.Name}-{k}.png"));
            }
        }
        Console.WriteLine($"wrote previews to {outDir}");
        return 0;
    }
    default:
        Console.Error.WriteLine($"unknown command '{command}'; try --help");
        return 2;
}
