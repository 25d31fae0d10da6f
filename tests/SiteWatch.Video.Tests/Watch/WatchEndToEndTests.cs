using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Simulation;
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
    public async Task AlertsFollowTheTruthCrossingsAndPositionsAreMetresAccurate()
    {
        var options = new FlightSimulationOptions { Seconds = 12, Fps = 15, Width = 320, Height = 180, Seed = 1, Vmti = true };
        var tsPath = Path.Combine(_dir, "flight.ts");
        var zonesPath = Path.Combine(_dir, "zones.geojson");
        FlightTruth truth;
        using (var simulator = FlightSimulator.Create(options, _dir))
        {
            await using var file = File.Create(tsPath);
            truth = await simulator.WriteTsAsync(file);
            simulator.WriteZones(zonesPath);
        }

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
        var border = zones.Single(z => z.Name == "border");
        var hysteresis = border.Settings.HysteresisMetres;

        // Position error: each track against the truth object it follows (the one nearest it most often).
        var errors = new List<double>();
        var follows = new Dictionary<int, int>();
        foreach (var track in pipeline.Record.Tracks)
        {
            var nearest = track.Path.Select(p => NearestObject(truth.Frames[(int)p.FrameIndex], p.Position)).ToList();
            var id = nearest.GroupBy(n => n.Id).MaxBy(g => g.Count())!.Key;
            follows[track.Id] = id;
            errors.AddRange(nearest.Where(n => n.Id == id).Select(n => n.Distance));
        }

        errors.Sort();
        var median = errors[errors.Count / 2];
        var p95 = errors[(int)(0.95 * (errors.Count - 1))];
        output.WriteLine($"track positions: {errors.Count}, error median {median:0.00} m, p95 {p95:0.00} m, max {errors[^1]:0.00} m");

        // Footprints: every truth corner against the nearest vertex of our sampled footprint of that frame.
        var cornerErrors = new List<double>();
        foreach (var footprint in pipeline.Record.Footprints)
        {
            foreach (var corner in truth.Frames[(int)footprint.FrameIndex].Footprint.OfType<double[]>())
            {
                cornerErrors.Add(footprint.Ring.Min(v => Wgs84.Distance(v.Latitude, v.Longitude, corner[1], corner[0])));
            }
        }

        output.WriteLine($"footprint corners: {cornerErrors.Count}, error max {cornerErrors.Max():0.00} m");
        // The bottom centre of a box is where the object meets the ground nearest the camera, not its centre (the truth):
        // half a vehicle away, plus the 1.8 m pixels of VMTI box corners.
        Assert.True(median < 4, $"median track position error {median:0.00} m");
        Assert.True(p95 < 8, $"p95 track position error {p95:0.00} m");
        Assert.True(cornerErrors.Count >= 4 * 10 && cornerErrors.Max() < 5, $"footprint corner error {cornerErrors.Max():0.00} m");

        // Events we must see: the object is in view from half a second before until it is hysteresis metres past the
        // line (for the yard: inertia frames inside), plus what the position error (bounded above) can delay that.
        // Each alert must answer one truth event of the object its track follows, within that window.
        const double positionSlack = 5;
        double Window(ObjectTruth o) => (hysteresis + positionSlack) / Math.Max(0.5, o.SpeedMps) + 0.5;
        // (An event whose window runs past the end of the video need not be seen.)
        bool InView(int id, double from, double to) => truth.Frames[^1].Time >= to && truth.Frames.Where(f => f.Time >= from && f.Time <= to).All(f => f.Objects.Any(o => o.Id == id && o.Box is not null));
        var events = truth.Objects.SelectMany(o => o.BorderCrossings.Select(c => (Object: o, Zone: "border", c.Time))
            .Concat(o.ZoneEntries.Select(t => (Object: o, Zone: "checkpoint yard", Time: t)))).OrderBy(e => e.Time).ToList();
        var unanswered = new List<WatchAlert>(pipeline.Record.Alerts);
        var answered = 0;
        foreach (var (obj, zone, time) in events)
        {
            var window = Window(obj);
            var visible = InView(obj.Id, time - 0.5, time + window);
            var alert = unanswered.FirstOrDefault(a => a.Zone == zone && follows.GetValueOrDefault(a.TrackId) == obj.Id && a.VideoSeconds >= time && a.VideoSeconds <= time + window);
            if (alert is not null)
            {
                unanswered.Remove(alert);
                answered++;
            }

            output.WriteLine($"{obj.Class} {obj.Id} {(zone == "border" ? "crosses the border" : "enters the yard")} at {time:0.00} s ({(visible ? "in view" : "not in view throughout")}): " +
                (alert is null ? "no alert" : $"{alert.Rule} alert at {alert.VideoSeconds:0.00} s (track {alert.TrackId}, {alert.SpeedMps:0.0} m/s)"));
            if (visible)
            {
                Assert.True(alert is not null, $"{obj.Class} {obj.Id}: {zone} at {time:0.00} s in view without an alert");
            }
        }

        // And no alert without a truth event of its object just before it.
        Assert.Empty(unanswered);
        Assert.True(answered >= 3, "at least three events in view");
        output.WriteLine($"processing {summary.ProcessingSecondsPerVideoSecond:0.000} s per video second; latency median {summary.MedianLatencyMs} ms");
    }

    private static (int Id, double Distance) NearestObject(FrameTruth frame, GeoPoint position) =>
        frame.Objects.Select(o => (o.Id, Distance: Wgs84.Distance(o.Latitude, o.Longitude, position.Latitude, position.Longitude))).MinBy(o => o.Distance);
}
