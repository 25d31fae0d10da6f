using SiteWatch.Core.Catalog;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;
using SiteWatch.Demo.Flight;
using SiteWatch.Video.Watch;

namespace SiteWatch.Demo.Flight;

/// <summary>The drone part of the demo: a short simulated border flight, watched, compared with its truth.</summary>
public sealed record DroneDemoOptions(string OutputDirectory)
{
    public double Seconds { get; init; } = 20;
    public double Fps { get; init; } = 15;
    public int Width { get; init; } = 480;
    public int Height { get; init; } = 270;
    public int Seed { get; init; } = 1;
}

public sealed record DroneDemoResult(string Directory, string TsPath, string ZonesPath, FlightTruth Truth, WatchSummary Summary,
    IReadOnlyList<AlertRecord> Alerts, TruthComparisonResult Comparison);

public static class DroneDemo
{
    /// <summary>
    /// Simulates the flight (flight.ts with VMTI boxes, truth.json, dem.tif, zones.geojson) into the output folder and
    /// watches it (watch/) with the DEM. VMTI locations are ignored: every position is our own ray cast.
    /// </summary>
    public static async Task<DroneDemoResult> RunAsync(DroneDemoOptions options, IProgress<(string Stage, double Fraction)>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var directory = options.OutputDirectory;
        Directory.CreateDirectory(directory);
        var tsPath = Path.Combine(directory, "flight.ts");
        var zonesPath = Path.Combine(directory, "zones.geojson");
        var simulation = new FlightSimulationOptions
        {
            Seconds = options.Seconds,
            Fps = options.Fps,
            Width = options.Width,
            Height = options.Height,
            Seed = options.Seed,
            Vmti = true,
        };
        FlightTruth truth;
        using (var simulator = FlightSimulator.Create(simulation, directory))
        {
            var frames = simulator.FrameCount;
            await using var file = File.Create(tsPath);
            truth = await simulator.WriteTsAsync(file, new Core.SyncProgress<int>(i => progress?.Report(("Simulating the border flight", (i + 1.0) / frames))), ct: cancellationToken);
            simulator.WriteZones(zonesPath);
            truth.Save(Path.Combine(directory, "truth.json"));
        }

        var zones = WatchZoneFile.Load(zonesPath);
        using var dem = DemTerrain.Open(truth.Dem);
        var pipeline = new WatchPipeline(zones, new VmtiFrameDetector(useReportedLocations: false),
            new WatchOptions { OutputDirectory = Path.Combine(directory, "watch"), DetectEvery = 1, Dem = dem, WaitForDetections = true })
        {
            OnStatus = s => progress?.Report(("Watching it", Math.Min(1, s.VideoSeconds / options.Seconds))),
        };
        WatchSummary summary;
        await using (pipeline)
        {
            await using var source = VideoSource.Open(tsPath);
            summary = await pipeline.RunAsync(source.ReadFramesAsync(cancellationToken), cancellationToken);
        }

        progress?.Report(("Watching it", 1));
        return new DroneDemoResult(directory, tsPath, zonesPath, truth, summary, pipeline.Record.Alerts,
            TruthComparison.Compare(truth, pipeline.Record, zones));
    }
}
