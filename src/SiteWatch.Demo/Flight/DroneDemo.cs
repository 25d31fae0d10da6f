using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Detection;
using SiteWatch.Core.Monitoring;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Watch;

namespace SiteWatch.Demo.Flight;

/// <summary>The drone part of the demo: a short simulated border flight, watched, compared with its truth.</summary>
public sealed record DroneDemoOptions(string OutputDirectory)
{
    public double Seconds { get; init; } = 20;
    public double Fps { get; init; } = 15;
    public int Width { get; init; } = 1280;
    public int Height { get; init; } = 720;
    public int Seed { get; init; } = 1;

    /// <summary>Every how many frames the detector runs: every 3rd at 15 fps is 5 times a second, as `watch` on 30 fps video.</summary>
    public int DetectEvery { get; init; } = 3;

    /// <summary>
    /// What finds the objects: the drone detector shipped with SiteWatch (Model, the default; Auto falls back to VMTI in
    /// a build without it) or the stream's VMTI boxes. With the model the flight is also watched with the VMTI boxes, as
    /// the peer the model's alerts are read against.
    /// </summary>
    public FrameDetectorKind Detector { get; init; } = FrameDetectorKind.Model;
}

/// <summary>One watch of the flight: by which detector, what it measured, and its alerts read against the truth.</summary>
public sealed record DroneDemoWatch(string Detector, WatchSummary Summary, IReadOnlyList<AlertRecord> Alerts, TruthComparisonResult Comparison);

/// <summary>The flight, its watch by the chosen detector, and, when that is the model, the VMTI peer's watch.</summary>
public sealed record DroneDemoResult(string Directory, string TsPath, string ZonesPath, FlightTruth Truth, DroneDemoWatch Watch, DroneDemoWatch? Peer)
{
    public WatchSummary Summary => Watch.Summary;
    public TruthComparisonResult Comparison => Watch.Comparison;
}

public static class DroneDemo
{
    /// <summary>
    /// Simulates the flight (flight.ts with VMTI boxes, truth.json, dem.tif, zones.geojson) into the output folder and
    /// watches it with the DEM: with the drone detector into watch/ and with the VMTI boxes into watch-vmti/ (or only the
    /// VMTI boxes, into watch/). VMTI locations are ignored: every position is our own ray cast.
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
            truth = await simulator.WriteTsAsync(file, new SyncProgress<int>(i => progress?.Report(("Simulating the border flight", (i + 1.0) / frames))), ct: cancellationToken);
            simulator.WriteZones(zonesPath);
            truth.Save(Path.Combine(directory, "truth.json"));
        }

        var zones = WatchZoneFile.Load(zonesPath);
        using var dem = DemTerrain.Open(truth.Dem);
        var modelPath = options.Detector == FrameDetectorKind.Vmti ? null : DetectorModel.DroneModelPath;
        if (modelPath is null && options.Detector == FrameDetectorKind.Model)
        {
            throw new SiteWatchException($"this build has no drone detector (models/{DetectorModel.DroneModelFileName}); run the demo's drone part with the VMTI boxes");
        }

        async Task<DroneDemoWatch> Watch(IFrameDetector detector, string folder, string stage)
        {
            var pipeline = new WatchPipeline(zones, detector,
                new WatchOptions { OutputDirectory = Path.Combine(directory, folder), DetectEvery = options.DetectEvery, Dem = dem, WaitForDetections = true })
            {
                OnStatus = s => progress?.Report((stage, Math.Min(1, s.VideoSeconds / options.Seconds))),
            };
            WatchSummary summary;
            await using (pipeline)
            {
                await using var source = VideoSource.Open(tsPath);
                summary = await pipeline.RunAsync(source.ReadFramesAsync(cancellationToken), cancellationToken);
            }
            progress?.Report((stage, 1));
            return new DroneDemoWatch(detector.Name, summary, pipeline.Record.Alerts, TruthComparison.Compare(truth, pipeline.Record, zones));
        }

        using var vmti = new VmtiFrameDetector(useReportedLocations: false);
        if (modelPath is null)
        {
            return new DroneDemoResult(directory, tsPath, zonesPath, truth, await Watch(vmti, "watch", "Watching it (VMTI boxes)"), null);
        }
        using var detector = new OnnxFrameDetector(DetectorModel.Load(modelPath));
        var model = await Watch(detector, "watch", "Watching it (drone detector)");
        var peer = await Watch(vmti, "watch-vmti", "Watching it again (VMTI boxes, the peer)");
        return new DroneDemoResult(directory, tsPath, zonesPath, truth, model, peer);
    }
}
