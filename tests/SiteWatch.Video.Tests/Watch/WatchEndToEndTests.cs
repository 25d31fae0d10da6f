using SiteWatch.Core.Monitoring;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Tests.Flight;
using SiteWatch.Demo.Flight;
using SiteWatch.Video.Watch;
using Xunit.Abstractions;

namespace SiteWatch.Video.Tests.Watch;

/// <summary>
/// Simulator to alerts: a 12 s border flight (320 x 180, 15 fps, VMTI boxes of the truth objects) encoded to H.264
/// MPEG-TS, decoded by ffmpeg, watched with the simulator's zones and DEM. VMTI target locations are ignored, so every
/// ground position is our own ray cast through the box onto the DEM.
/// </summary>
public sealed class WatchEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sitewatch-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task Alerts_follow_the_truth_crossings_and_positions_are_metres_accurate()
    {
        var options = new FlightSimulationOptions { Seconds = 12, Fps = 15, Width = 320, Height = 180, Seed = 1, Vmti = true };
        var zonesPath = Path.Combine(_dir, "zones.geojson");
        var (tsPath, truth) = await SimulatedFlights.WriteAsync(options, _dir, zonesPath: zonesPath);

        var zones = WatchZoneFile.Load(zonesPath);
        using var dem = DemTerrain.Open(truth.Dem);
        var pipeline = new WatchPipeline(zones, new VmtiFrameDetector(useReportedLocations: false),
            new WatchOptions { OutputDirectory = Path.Combine(_dir, "watch"), DetectEvery = 1, Dem = dem, WaitForDetections = true });
        WatchSummary summary;
        await using (pipeline)
        {
            await using var source = VideoSource.Open(tsPath);
            summary = await pipeline.RunAsync(source.ReadFramesAsync());
        }

        Assert.Equal(truth.Frames.Count, summary.Frames);
        Assert.Equal((0.5, 0.6, "ByteTrack's defaults"), (summary.TrackHighScore, summary.NewTrackScore, summary.TrackGatesFrom)); // VMTI states none
        var result = TruthComparison.Compare(truth, pipeline.Record, zones);
        output.WriteLine($"track positions: error median {result.MedianPositionErrorMetres:0.00} m, p95 {result.P95PositionErrorMetres:0.00} m; " +
            $"footprint corners: error max {result.MaxFootprintCornerErrorMetres:0.00} m ({pipeline.Record.Footprints.Count} footprints)");
        foreach (var e in result.Events)
        {
            output.WriteLine($"{e.ObjectClass} {e.ObjectId} {e.Zone} at {e.TruthSeconds:0.00} s ({(e.MustBeSeen ? "must be seen" : "out of view or grazing")}): " +
                (e.Alert?.Track is { } a ? $"{e.Alert.Kind} alert at {a.VideoSeconds:0.00} s (track {a.TrackId}, {a.SpeedMps:0.0} m/s)" : "no alert"));
        }

        // The bottom centre of a box is where the object meets the ground nearest the camera, not its centre (the truth):
        // half a vehicle away, plus the 1.8 m pixels of VMTI box corners.
        Assert.True(result.MedianPositionErrorMetres < 4, $"median track position error {result.MedianPositionErrorMetres:0.00} m");
        Assert.True(result.P95PositionErrorMetres < 8, $"p95 track position error {result.P95PositionErrorMetres:0.00} m");
        Assert.True(pipeline.Record.Footprints.Count >= 10 && result.MaxFootprintCornerErrorMetres < 5, $"footprint corner error {result.MaxFootprintCornerErrorMetres:0.00} m");
        Assert.All(result.Events.Where(e => e.MustBeSeen), e => Assert.NotNull(e.Alert));
        Assert.Empty(result.UnansweredAlerts);
        Assert.True(result.Events.Count(e => e.Alert is not null) >= 3, "at least three events alerted");
        Assert.True(result.AlertsMatchTruth);
        output.WriteLine($"processing {summary.ProcessingSecondsPerVideoSecond:0.000} s per video second; latency median {summary.MedianLatencyMs} ms");
    }

    [Fact]
    public async Task Drone_demo_writes_the_flight_the_watch_and_the_comparison()
    {
        var result = await DroneDemo.RunAsync(new DroneDemoOptions(Path.Combine(_dir, "drone")) { Seconds = 3, Fps = 10, Width = 160, Height = 96, DetectEvery = 1, Detector = FrameDetectorKind.Vmti });
        Assert.Equal(30, result.Summary.Frames);
        foreach (var file in new[] { "flight.ts", "truth.json", "zones.geojson", "watch/flight.geojson", "watch/flight.kml", "watch/alerts.jsonl" })
        {
            Assert.True(File.Exists(Path.Combine(_dir, "drone", file)), file);
        }

        Assert.Equal(result.Truth.Objects.Sum(o => o.BorderCrossings.Count + o.ZoneEntries.Count), result.Comparison.Events.Count);
        Assert.True(result.Comparison.MaxFootprintCornerErrorMetres < 10);
    }

    [Fact]
    public async Task The_detector_is_told_each_frames_ground_sample_distance_from_its_telemetry()
    {
        var options = new FlightSimulationOptions { Seconds = 1, Fps = 6, Width = 320, Height = 180, Seed = 2 };
        var tsPath = Path.Combine(_dir, "gsd.ts");
        FlightTruth truth;
        double acrossTrack;
        using (var simulator = FlightSimulator.Create(options, _dir))
        {
            await using var file = File.Create(tsPath);
            truth = await simulator.WriteTsAsync(file);
            acrossTrack = simulator.GroundSampleDistance;
        }

        using var dem = DemTerrain.Open(truth.Dem);
        var detector = new RecordingDetector();
        WatchSummary summary;
        await using (var pipeline = new WatchPipeline([], detector,
            new WatchOptions { OutputDirectory = Path.Combine(_dir, "gsd-watch"), DetectEvery = 2, Dem = dem, WaitForDetections = true }))
        {
            await using var source = VideoSource.Open(tsPath);
            summary = await pipeline.RunAsync(source.ReadFramesAsync());
        }

        Assert.Equal(3, detector.Seen.Count);
        // The tracker takes the gates the detector states for its scores, and says so.
        Assert.Equal((0.3, 0.4, "the detector's model"), (summary.TrackHighScore, summary.NewTrackScore, summary.TrackGatesFrom));
        // The simulator's figure is across the line of sight at the frame centre; down it, pixels stretch by
        // 1 / sin(depression) (about 58 degrees down here), so the finer spacing the detector gets is the one across.
        Assert.All(detector.Seen, gsd => Assert.InRange(gsd!.Value / acrossTrack, 0.95, 1.05));
    }

    [Fact]
    public async Task Between_detections_a_parked_vehicles_track_stays_on_it_while_the_drone_orbits()
    {
        // The drone orbits and its camera turns, so the parked vehicle (object 4) moves across the picture. Detection
        // on one frame in 30 (one every 2 s): in between, the track is where the camera's motion from the telemetry
        // puts it, or, without that, where the tracker's velocity (the camera's motion, learnt late) guesses.
        var options = new FlightSimulationOptions { Seconds = 12, Fps = 15, Width = 640, Height = 360, Seed = 1, Vmti = true };
        var (tsPath, truth) = await SimulatedFlights.WriteAsync(options, _dir, "orbit.ts");

        using var dem = DemTerrain.Open(truth.Dem);
        async Task<List<double>> Errors(bool compensate)
        {
            var errors = new List<double>();
            var pipeline = new WatchPipeline([], new VmtiFrameDetector(useReportedLocations: false),
                new WatchOptions { OutputDirectory = Path.Combine(_dir, $"orbit-{compensate}"), DetectEvery = 30, Dem = dem, WaitForDetections = true, CompensateCameraMotion = compensate })
            {
                OnFrame = report =>
                {
                    var truthBox = truth.Frames[(int)report.Frame.Index].Objects.Single(o => o.Id == 4).Box;
                    if (report.Frame.Index % 30 == 0 || truthBox is null)
                    {
                        return;
                    }

                    // The track nearest the vehicle's box (the other objects drive far from it).
                    double cx = (truthBox[0] + truthBox[2]) / 2, cy = (truthBox[1] + truthBox[3]) / 2;
                    errors.AddRange(report.Tracks.Select(t => Math.Sqrt(Math.Pow(t.Box.CentreX - cx, 2) + Math.Pow(t.Box.CentreY - cy, 2))).Order().Take(1));
                },
            };
            await using (pipeline)
            {
                await using var source = VideoSource.Open(tsPath);
                var summary = await pipeline.RunAsync(source.ReadFramesAsync());
                Assert.Equal(compensate, summary.CameraMotionCompensated);
            }

            errors.Sort();
            return errors;
        }

        var moved = await Errors(true);
        var still = await Errors(false);
        static double P90(List<double> e) => e[(int)(0.9 * (e.Count - 1))];
        output.WriteLine($"parked vehicle, frames between detections: track p90 {P90(moved):0.0} px from it moved with the camera " +
            $"(max {moved[^1]:0.0}), p90 {P90(still):0.0} px without (max {still[^1]:0.0}); {moved.Count} and {still.Count} frames");
        Assert.True(moved.Count > 150, $"{moved.Count} frames between detections with the vehicle tracked");
        Assert.True(P90(moved) < 1.5, $"p90 {P90(moved):0.00} px moved with the camera");
        Assert.True(P90(still) > 3 * P90(moved), $"without the camera's motion the track is {P90(still):0.00} px off (p90), with it {P90(moved):0.00} px");
    }

    /// <summary>Finds nothing; keeps the ground sample distance it was given with each frame.</summary>
    private sealed class RecordingDetector : IFrameDetector
    {
        public List<double?> Seen { get; } = [];

        public string Name => "recording";

        public bool IsCheap => false;

        public (double High, double NewTrack)? TrackerGates => (0.3, 0.4);

        public IReadOnlyList<SiteWatch.Video.Tracking.BoxDetection> Detect(VideoFrame frame, double? groundSampleDistance)
        {
            Seen.Add(groundSampleDistance);
            return [];
        }

        public void Dispose()
        {
        }
    }
}
