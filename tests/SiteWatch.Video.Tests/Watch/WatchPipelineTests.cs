using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Klv;
using SiteWatch.Video.Watch;
using static SiteWatch.Video.Tests.Watch.ZoneTestSupport;

namespace SiteWatch.Video.Tests.Watch;

/// <summary>
/// The whole pipeline on in-memory frames: a camera looking straight down from 500 m over flat ground, a vehicle driving
/// east at 15 m/s through a border line (x = 0) into a yard (x = 20..50 m), its box carried in VMTI (no location, so
/// our ray casting places it), frames 100-104 without telemetry.
/// </summary>
public sealed class WatchPipelineTests : IDisposable
{
    private const int Width = 320, Height = 240;
    private const double Fps = 30, Speed = 15, StartEast = -60;
    private static readonly DateTimeOffset s_start = new(2025, 6, 1, 6, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("sitewatch-watch-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static GeoPoint Vehicle(double t) => At(StartEast + Speed * t, 0);

    private static byte[] Telemetry(double t, bool withTarget)
    {
        var fields = new List<KlvField>
        {
            KlvField.Integer(St0601.PrecisionTimeStamp, (s_start.AddSeconds(t) - DateTimeOffset.UnixEpoch).Ticks / 10),
            KlvField.Number(St0601.PlatformHeading, 0),
            KlvField.Number(St0601.PlatformPitch, 0),
            KlvField.Number(St0601.PlatformRoll, 0),
            KlvField.Number(St0601.SensorLatitude, Origin.Latitude),
            KlvField.Number(St0601.SensorLongitude, Origin.Longitude),
            KlvField.Number(St0601.HorizontalFov, 40),
            KlvField.Number(St0601.SensorRelativeAzimuth, 0),
            KlvField.Number(St0601.SensorRelativeElevation, -90),
            KlvField.Number(St0601.SensorRelativeRoll, 0),
            KlvField.Number(St0601.FrameCenterLatitude, Origin.Latitude),
            KlvField.Number(St0601.FrameCenterLongitude, Origin.Longitude),
            KlvField.Integer(St0601.UasLsVersion, St0601.Version),
            KlvField.Number(75, 600), // sensor HAE
            KlvField.Number(78, 100), // frame centre HAE: flat ground at 100 m
        };
        if (withTarget)
        {
            var pose = CameraPose.FromKlv(KlvDecoder.Decode(KlvEncoder.EncodePacket(St0601.Schema, fields)).Set!, Width, Height);
            var p = Vehicle(t);
            var pixel = FrameGeolocator.ForFrame(pose).GroundToPixel(p.Latitude, p.Longitude);
            // A 10 x 8 px box standing on the vehicle's ground point (bottom centre), as ST 0903 pixel numbers.
            long Number(double column, double row) => (long)Math.Floor(column) + 1 + (long)Math.Floor(row) * Width;
            fields.Add(KlvField.Set(St0601.VmtiLocalSet,
            [
                KlvField.Integer(8, Width),
                KlvField.Integer(9, Height),
                KlvField.IdSeries(St0903.VTargetSeries,
                [
                    (7UL, [KlvField.Integer(2, Number(pixel.Column - 5, pixel.Row - 8)), KlvField.Integer(3, Number(pixel.Column + 4, pixel.Row - 1)), KlvField.Integer(5, 90)]),
                ]),
            ]));
        }

        return KlvEncoder.EncodePacket(St0601.Schema, fields);
    }

    private static async IAsyncEnumerable<VideoFrame> Frames(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var t = i / Fps;
            var telemetry = i is >= 100 and < 105 ? null : KlvDecoder.Decode(Telemetry(t, withTarget: true)).Set;
            var pixels = new byte[Width * Height * 3];
            Array.Fill(pixels, (byte)90);
            yield return new VideoFrame(i, (long)(t * 90_000), TimeSpan.FromSeconds(t), Width, Height, pixels, telemetry, DateTimeOffset.UtcNow);
            await Task.Yield();
        }
    }

    [Fact]
    public async Task Alerts_when_and_where_the_vehicle_crosses_and_enters()
    {
        var zones = Zones(NorthLine(0, -200, 200, """{"name":"border"}"""), Square(20, -30, 50, 30, """{"name":"yard"}"""));
        using var listener = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)listener.Client.LocalEndPoint!).Port;
        var options = new WatchOptions { OutputDirectory = _dir, DetectEvery = 3, WaitForDetections = true };
        WatchSummary summary;
        var pipeline = new WatchPipeline(zones, new VmtiFrameDetector(), options, [new CotSink(CotSink.ParseEndpoint($"udp://127.0.0.1:{port}"))]);
        await using (pipeline)
        {
            summary = await pipeline.RunAsync(Frames(240)); // 8 s: from x = -60 m to x = +60 m
        }

        var alerts = pipeline.Record.Alerts.Select(a => a.Track!).ToList();
        Assert.Equal(["border:cross", "yard:enter"], pipeline.Record.Alerts.Select(a => $"{a.Track!.Zone}:{a.Kind}"));
        // Truth: the line at t = 4.0 s (plus the 2 m hysteresis), the yard at t = 5.33 s (plus 3 frames of inertia);
        // detection every 3rd frame adds up to 0.1 s.
        Assert.InRange(alerts[0].VideoSeconds, 4.0, 4.0 + 2 / Speed + 0.2);
        Assert.InRange(alerts[1].VideoSeconds, 80 / Speed, 80 / Speed + 0.3);
        foreach (var alert in alerts)
        {
            var truth = Vehicle(alert.VideoSeconds);
            var error = Wgs84.Distance(alert.Latitude, alert.Longitude, truth.Latitude, truth.Longitude);
            Assert.True(error < 1.5, $"alert {alert.AlertId} placed {error:0.00} m from the truth");
            Assert.Equal(Speed, alert.SpeedMps!.Value, 0);
            Assert.InRange(alert.HeadingDeg!.Value, 88, 92);
            Assert.Equal(s_start.AddSeconds(alert.VideoSeconds), alert.SensorTime!.Value, TimeSpan.FromMilliseconds(1));
            Assert.True(File.Exists(Path.Combine(_dir, alert.Chip!)));
            Assert.InRange(alert.LatencyMs, 0, double.MaxValue);
        }

        var lines = File.ReadAllLines(Path.Combine(_dir, "alerts.jsonl"));
        Assert.Equal(2, lines.Length);
        // Each line is the alert as every webhook payload has it: evidence with the zone, geometry where it was placed.
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("border", first.GetProperty("evidence").GetProperty("zone").GetString());
        Assert.Equal("cross", first.GetProperty("kind").GetString());
        Assert.Equal(alerts[0].AlertUid, first.GetProperty("uid").GetString());
        Assert.Equal(alerts[0].Longitude, first.GetProperty("geometry").GetProperty("coordinates")[0].GetDouble());
        using var geojson = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "flight.geojson")));
        var kinds = geojson.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("properties").GetProperty("kind").GetString()).ToList();
        Assert.Equal(8, kinds.Count(k => k == "footprint"));
        Assert.Equal(1, kinds.Count(k => k == "track"));
        Assert.Equal(2, kinds.Count(k => k == "alert"));
        Assert.True(File.Exists(Path.Combine(_dir, "flight.kml")));

        Assert.Equal(240, summary.Frames);
        Assert.Equal(5, summary.FramesWithoutTelemetry);
        Assert.Contains(summary.Problems, p => p.StartsWith("frame 100 (3.333 s): no telemetry; the previous pose is used", StringComparison.Ordinal));
        Assert.Equal(1, summary.ConfirmedTracks);
        Assert.Equal(80, summary.DetectionFrames);
        Assert.Contains("frame-centre height above ellipsoid", summary.Terrain);
        var cot = Assert.Single(summary.Sinks);
        Assert.Equal(2, cot.Delivered);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Assert.Contains("crossed border", System.Text.Encoding.UTF8.GetString((await listener.ReceiveAsync(timeout.Token)).Buffer));
    }

    [Fact]
    public async Task A_run_into_an_existing_folder_keeps_earlier_alerts()
    {
        var zones = Zones(NorthLine(0, -200, 200, """{"name":"border"}"""));
        for (var run = 0; run < 2; run++)
        {
            var pipeline = new WatchPipeline(zones, new VmtiFrameDetector(), new WatchOptions { OutputDirectory = _dir, DetectEvery = 1 });
            await using (pipeline)
            {
                await pipeline.RunAsync(Frames(150));
            }
        }

        Assert.Equal(2, File.ReadAllLines(Path.Combine(_dir, "alerts.jsonl")).Length);
    }

    /// <summary>A detector that holds every call until the test lets it go (stands in for a slow neural network).</summary>
    private sealed class GatedDetector : IFrameDetector
    {
        public readonly ManualResetEventSlim Gate = new();
        public int Calls;

        public string Name => "gated";

        public bool IsCheap => false;

        public (double High, double NewTrack)? TrackerGates => null;

        public IReadOnlyList<SiteWatch.Video.Tracking.BoxDetection> Detect(VideoFrame frame, double? groundSampleDistance)
        {
            Interlocked.Increment(ref Calls);
            Gate.Wait(TimeSpan.FromSeconds(30));
            return [];
        }

        public void Dispose() => Gate.Dispose();
    }

    [Fact]
    public async Task A_busy_detector_costs_detection_frames_not_frames()
    {
        using var detector = new GatedDetector();
        async IAsyncEnumerable<VideoFrame> FramesThenRelease()
        {
            await foreach (var frame in Frames(14))
            {
                yield return frame;
            }

            detector.Gate.Set();
        }

        var pipeline = new WatchPipeline(Zones(NorthLine(0, -200, 200, """{"name":"border"}""")), detector, new WatchOptions { OutputDirectory = _dir, DetectEvery = 6 });
        WatchSummary summary;
        await using (pipeline)
        {
            summary = await pipeline.RunAsync(FramesThenRelease());
        }

        // Frame 0 went to the detector, which held it while frames 6 and 12 came: both were skipped, no frame waited.
        Assert.Equal(14, summary.Frames);
        Assert.Equal(1, summary.DetectionFrames);
        Assert.Equal(2, summary.DetectionFramesDropped);
        Assert.Equal(1, detector.Calls);
    }
}
