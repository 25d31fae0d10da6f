using System.Net;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Klv;
using SiteWatch.Demo.Flight;
using Xunit.Abstractions;

using SiteWatch.Video.Tests.Frames;

namespace SiteWatch.Video.Tests.Flight;

/// <summary>One short simulated flight (2 s, 320 x 180, 10 fps) shared by the tests that read it.</summary>
public sealed class SimulatedFlightFixture : IAsyncLifetime
{
    public static readonly FlightSimulationOptions Options = new() { Seconds = 2, Fps = 10, Width = 320, Height = 180, Seed = 3, Vmti = true };

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"sitewatch-sim-{Guid.NewGuid():N}");

    public string TsPath => Path.Combine(Directory, "flight.ts");

    public FlightTruth Truth { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        using var simulator = FlightSimulator.Create(Options, Directory);
        await using var file = File.Create(TsPath);
        Truth = await simulator.WriteTsAsync(file);
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}

public class FlightSimulatorTests(SimulatedFlightFixture flight, ITestOutputHelper output) : IClassFixture<SimulatedFlightFixture>
{
    [Fact]
    public async Task Video_source_reads_every_frame_with_telemetry_matching_the_truth()
    {
        await using var source = VideoSource.Open(flight.TsPath);
        var frames = new List<VideoFrame>();
        await foreach (var frame in source.ReadFramesAsync())
        {
            frames.Add(frame);
        }

        Assert.Equal(20, frames.Count);
        Assert.Equal(20, flight.Truth.Frames.Count);
        Assert.Equal(0, source.Stats.FramesWithoutTelemetry);
        Assert.Equal(0, source.Stats.TsErrors);
        using var dem = DemTerrain.Open(flight.Truth.Dem);
        var worstCentre = 0.0;
        var worstCorner = 0.0;
        foreach (var frame in frames)
        {
            var truth = flight.Truth.Frames[(int)frame.Index];
            Assert.Equal(truth.Pts, frame.Pts90k);
            Assert.Equal(320, frame.Width);
            var set = frame.Telemetry!;
            // KLV frame centre against the truth (tags 23/24 quantise to about a centimetre).
            var centre = truth.Centre!;
            worstCentre = Math.Max(worstCentre, Wgs84.Distance(set.GetDouble(St0601.FrameCenterLatitude), set.GetDouble(St0601.FrameCenterLongitude), centre[1], centre[0]));

            // Footprint from the decoded KLV (pose, fields of view) on the DEM, against the truth corners.
            var pose = CameraPose.FromKlv(set, frame.Width, frame.Height);
            var footprint = FrameGeolocator.ForFrame(pose, dem).ComputeFootprint();
            Assert.True(footprint.IsComplete);
            for (var k = 0; k < 4; k++)
            {
                var ours = footprint.Corners[k].Point;
                var expected = truth.Footprint[k]!;
                worstCorner = Math.Max(worstCorner, Wgs84.Distance(ours.Latitude, ours.Longitude, expected[1], expected[0]));
            }
        }

        output.WriteLine($"KLV frame centre vs truth: max {worstCentre:0.000} m; footprint corners from decoded KLV vs truth: max {worstCorner:0.000} m");
        Assert.True(worstCentre < 0.5, $"frame centre off by {worstCentre:0.00} m");
        Assert.True(worstCorner < 3, $"footprint corner off by {worstCorner:0.00} m");
    }

    [Fact]
    public void Truth_has_objects_in_view_and_border_crossings_during_the_flight()
    {
        var truth = flight.Truth;
        Assert.All(truth.Frames, f => Assert.Equal(truth.Objects.Count, f.Objects.Count));
        // The camera watches the crossing: most vehicles are in view at the start.
        Assert.Contains(truth.Frames[0].Objects, o => o.Class == "vehicle" && o.Box is not null);
        Assert.Contains(truth.Frames[0].Objects, o => o.Class == "person" && o.Box is not null);
        // Two northbound and one southbound vehicle cross, the leader of the walking group too; the parked vehicle does not.
        Assert.Equal(3, truth.Objects.Count(o => o.Class == "vehicle" && o.BorderCrossings.Count == 1));
        Assert.Contains(truth.Objects, o => o.Class == "person" && o.BorderCrossings.Count == 1);
        Assert.Equal(["left", "left", "right"], truth.Objects.Where(o => o.Class == "vehicle").SelectMany(o => o.BorderCrossings).Select(c => c.ToSide).Order());
        Assert.All(truth.Objects.SelectMany(o => o.BorderCrossings), c => Assert.InRange(c.Time, 0, 2));
        Assert.Contains(truth.Objects, o => o.BorderCrossings.Count == 0 && o.SpeedMps == 0);
        Assert.True(File.Exists(truth.Dem));
    }

    [Fact]
    public async Task VMTI_targets_match_the_truth_boxes()
    {
        await using var source = VideoSource.Open(flight.TsPath);
        await foreach (var frame in source.ReadFramesAsync())
        {
            var truth = flight.Truth.Frames[(int)frame.Index];
            Assert.True(frame.Telemetry!.TryGetItem(St0601.VmtiLocalSet, out var vmti));
            var targets = vmti.AsSet()!.First(i => i.Tag == St0903.VTargetSeries).AsSeries()!;
            var inView = truth.Objects.Where(o => o.Box is not null).ToList();
            Assert.Equal(inView.Select(o => (ulong)o.Id), targets.Select(t => t.Id!.Value));
            foreach (var (target, o) in targets.Zip(inView))
            {
                Assert.InRange(target.Set.GetDouble(20), o.Box![0] - 1, o.Box[2] + 1);
                Assert.InRange(target.Set.GetDouble(19), o.Box[1] - 1, o.Box[3] + 1);
            }
        }
    }

    [Fact]
    public void Render_frame_gives_pixels_and_boxes_of_the_objects()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"sitewatch-render-{Guid.NewGuid():N}");
        try
        {
            using var simulator = FlightSimulator.Create(SimulatedFlightFixture.Options with { Width = 480, Height = 270 }, dir);
            var frame = simulator.RenderFrame(0.5);
            Assert.Equal(480 * 270 * 3, frame.Bgr24.Length);
            output.WriteLine($"GSD at the frame centre {simulator.GroundSampleDistance:0.00} m");
            var vehicle = frame.Objects.First(o => o.Class == "vehicle" && o.Box is { } b && b[0] > 2 && b[2] < 478 && b[1] > 2 && b[3] < 268);
            var box = vehicle.Box!;
            // The body colour fills the middle of the box; the ground around the object looks different.
            var colour = simulator.World.Objects.First(o => o.Id == vehicle.Id);
            int cx = (int)((box[0] + box[2]) / 2), cy = (int)((box[1] + box[3]) / 2);
            var p = (cy * 480 + cx) * 3;
            var inside = (frame.Bgr24[p], frame.Bgr24[p + 1], frame.Bgr24[p + 2]);
            Assert.True(inside == (colour.B, colour.G, colour.R) || Math.Abs(inside.Item1 - 30) < 40, $"centre pixel {inside} of vehicle {vehicle.Id}");
            Assert.InRange(box[2] - box[0], 2, 60);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Extra_people_walk_near_the_crossing_and_leave_the_scenarios_own_objects_as_they_were()
    {
        var scenario = new FlightWorld(3, 20);
        var crowded = new FlightWorld(3, 20, extraPeople: 25);
        Assert.Equal(7, scenario.Objects.Count);
        Assert.Equal(scenario.Objects.Count + 25, crowded.Objects.Count);
        foreach (var time in new[] { 0.0, 9.0, 20.0 })
        {
            Assert.All(scenario.Objects.Zip(crowded.Objects), pair =>
            {
                Assert.Equal(pair.First.Id, pair.Second.Id);
                Assert.Equal(pair.First.At(time), pair.Second.At(time));
            });
        }

        var (cx, cy, _) = crowded.Road.At(crowded.Road.FirstCrossing(crowded.BorderPoint, crowded.BorderDirection)!.Value);
        var extra = crowded.Objects.Skip(scenario.Objects.Count).ToList();
        Assert.All(extra, o =>
        {
            Assert.Equal(SimulatedObjectClass.Person, o.Class);
            Assert.InRange(o.Speed, 0.8, 1.8);
            var (x, y, _) = o.At(10);
            Assert.InRange(Math.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy)), 0, 120 + 4 * 2.5 + 1);
        });
        // Walkers move: each is elsewhere a second later, by its speed.
        Assert.All(extra, o =>
        {
            var (x0, y0, _) = o.At(5);
            var (x1, y1, _) = o.At(6);
            Assert.Equal(o.Speed, Math.Sqrt((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)), 6);
        });
        Assert.Equal(extra.Select(o => o.At(0)), new FlightWorld(3, 20, extraPeople: 25).Objects.Skip(7).Select(o => o.At(0)));
        // Another seed, other walkers (the scrambled generator does not step evenly with the seed).
        Assert.NotEqual(extra.Select(o => o.At(0)), new FlightWorld(4, 20, extraPeople: 25).Objects.Skip(7).Select(o => o.At(0)));

        var dir = Path.Combine(Path.GetTempPath(), $"sitewatch-walkers-{Guid.NewGuid():N}");
        Assert.Contains("extra people -1", Assert.Throws<VideoException>(() => FlightSimulator.Create(SimulatedFlightFixture.Options with { ExtraPeople = -1 }, dir)).Message);
        Assert.Contains("shadow length", Assert.Throws<VideoException>(() => FlightSimulator.Create(SimulatedFlightFixture.Options with { ShadowLength = double.NaN }, dir)).Message);
        Assert.Contains("finite bearing", Assert.Throws<VideoException>(() => FlightSimulator.Create(SimulatedFlightFixture.Options with { ShadowBearing = double.PositiveInfinity }, dir)).Message);
        Assert.False(Directory.Exists(dir)); // refused before anything is written
    }

    [Fact]
    public void Shadows_fall_where_the_options_point_them()
    {
        // A person's shadow box against its body box, in pixels, for the people of one frame seen in full.
        Dictionary<int, (double X, double Y)> Offsets(FlightSimulationOptions options)
        {
            var dir = Path.Combine(Path.GetTempPath(), $"sitewatch-shadow-{Guid.NewGuid():N}");
            try
            {
                using var simulator = FlightSimulator.Create(options, dir);
                return simulator.RenderFrame(9).Objects
                    .Where(o => o.Class == "person" && o.Box is not null && o.Shadow is not null)
                    .ToDictionary(o => o.Id, o => ((o.Shadow![0] + o.Shadow[2] - o.Box![0] - o.Box[2]) / 2, (o.Shadow[1] + o.Shadow[3] - o.Box[1] - o.Box[3]) / 2));
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        var options = SimulatedFlightFixture.Options with { Seconds = 20, Width = 1280, Height = 720, Vmti = false };
        var southEast = Offsets(options);
        var northWest = Offsets(options with { ShadowBearing = 315 });
        var longer = Offsets(options with { ShadowLength = 2 });
        Assert.Equal(3, southEast.Count);
        foreach (var (id, (x, y)) in southEast)
        {
            output.WriteLine($"person {id}: shadow {x:0.00}, {y:0.00} px from the body; to the north-west {northWest[id]}; twice as long {longer[id]}");
            Assert.InRange(Math.Sqrt(x * x + y * y), 2, 10); // 2 m at about 0.43 m a pixel
            Assert.Equal(-x, northWest[id].X, 0.5);
            Assert.Equal(-y, northWest[id].Y, 0.5);
            Assert.Equal(2 * x, longer[id].X, 0.5);
            Assert.Equal(2 * y, longer[id].Y, 0.5);
        }
    }

    [Fact]
    public async Task The_KLV_time_and_place_put_the_sun_where_the_shadows_are_drawn()
    {
        // What `watch` reads of the sun (the first packet's time and the sensor's place) against what the frames show:
        // the default person's shadow 1.98 m to the south-east of its body, for a person 1.7 m tall.
        VideoFrame? first = null;
        await using (var source = VideoSource.Open(flight.TsPath))
        {
            await foreach (var frame in source.ReadFramesAsync())
            {
                first ??= frame;
            }
        }

        var set = first!.Telemetry!;
        Assert.True(set.TryGetItem(St0601.PrecisionTimeStamp, out var stamp));
        var sun = SunPosition.At(new DateTimeOffset(stamp.AsDateTime()!.Value, TimeSpan.Zero), set.GetDouble(St0601.SensorLatitude), set.GetDouble(St0601.SensorLongitude));
        output.WriteLine($"sun at azimuth {sun.AzimuthDeg:0.00}, elevation {sun.ElevationDeg:0.00}; a 1.7 m person's shadow {sun.ShadowLength(1.7):0.00} m towards {sun.ShadowBearingDeg:0.0}");
        var defaults = new FlightSimulationOptions();
        Assert.InRange(Math.Abs((sun.ShadowBearingDeg - defaults.ShadowBearing + 540) % 360 - 180), 0, 2);
        Assert.InRange(sun.ShadowLength(1.7), Math.Sqrt(2) * 1.4 - 0.1, Math.Sqrt(2) * 1.4 + 0.1);
    }

    [Fact]
    public void A_given_DEM_is_flown_over_its_centre()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"sitewatch-dem-{Guid.NewGuid():N}");
        try
        {
            using var simulator = FlightSimulator.Create(SimulatedFlightFixture.Options with { Width = 160, Height = 96, DemPath = flight.Truth.Dem }, dir);
            using var dem = DemTerrain.Open(flight.Truth.Dem);
            Assert.Equal(dem.CentreLatitude, simulator.Frame.OriginLatitude, 9);
            Assert.False(File.Exists(Path.Combine(dir, "dem.tif")));
            var frame = simulator.RenderFrame(0);
            Assert.NotNull(frame.Centre);
            Assert.All(frame.Footprint, Assert.NotNull);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task UDP_stream_from_the_simulator_is_read_frame_by_frame()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"sitewatch-udp-{Guid.NewGuid():N}");
        try
        {
            var port = VideoSourceTests.FreeUdpPort();
            using var simulator = FlightSimulator.Create(SimulatedFlightFixture.Options with { Seconds = 1, Width = 160, Height = 96 }, dir);
            await using var source = VideoSource.Open($"udp://127.0.0.1:{port}", new VideoSourceOptions { UdpIdleTimeout = TimeSpan.FromSeconds(4) });
            var reading = Task.Run(async () =>
            {
                var frames = new List<VideoFrame>();
                await foreach (var frame in source.ReadFramesAsync())
                {
                    frames.Add(frame);
                }

                return frames;
            });
            var truth = await simulator.StreamUdpAsync(new IPEndPoint(IPAddress.Loopback, port));
            var frames = await reading;
            Assert.Equal(10, frames.Count);
            Assert.Equal(truth.Frames.Select(f => (long?)f.Pts), frames.Select(f => f.Pts90k));
            Assert.All(frames, f => Assert.NotNull(f.Telemetry));
            Assert.Equal(0, source.Stats.TsErrors);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
