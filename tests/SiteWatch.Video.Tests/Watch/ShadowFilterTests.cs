using SiteWatch.Demo.Flight;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Tests.Flight;
using SiteWatch.Video.Tests.Geo;
using SiteWatch.Video.Tracking;
using SiteWatch.Video.Watch;
using Xunit.Abstractions;

namespace SiteWatch.Video.Tests.Watch;

public class ShadowFilterTests
{
    // A camera straight down from 400 m (0.36 m a pixel) at 10:00 local time in June: the sun in the east, about
    // 55 degrees high, so a 1.7 m person's shadow lies some 1.2 m to the west of the person.
    private static readonly DateTimeOffset Morning = new(2025, 6, 21, 1, 0, 0, TimeSpan.Zero);
    private readonly FrameGeolocator _camera = new(CameraModel.FromPose(Poses.Nadir(400)), Poses.FlatEllipsoid());
    private readonly GeoPoint _ground;
    private readonly SunPosition _sun;

    public ShadowFilterTests()
    {
        _ground = _camera.PixelToGround(640, 360).Point;
        _sun = SunPosition.At(Morning, _ground.Latitude, _ground.Longitude);
    }

    /// <summary>A detection whose box centre sees the ground <paramref name="along"/> metres down the shadows' bearing and <paramref name="across"/> to their left.</summary>
    private BoxDetection At(double along, double across, double score = 0.5, string className = "person")
    {
        var (east, north) = Math.SinCos(_sun.ShadowBearingDeg * Math.PI / 180);
        var point = Wgs84.FromEnu(_ground, new Vec3(along * east - across * north, along * north + across * east, 0));
        var (column, row) = _camera.Project(point)!.Value;
        return new BoxDetection(new PixelBox(column, row, 2.5, 2.5), score, className);
    }

    [Fact]
    public void A_person_on_anothers_shadow_is_dropped_and_neighbours_are_kept()
    {
        Assert.InRange(_sun.ElevationDeg, ShadowFilter.LowestSun, ShadowFilter.HighestSun);
        var shadowLength = _sun.ShadowLength(1.7);
        var body = At(0, 0);
        var shadow = At(shadowLength, 0, score: 0.6); // scored above the body: geometry decides, not the score
        var abreast = At(0, 1.6);
        var behindAndAside = At(shadowLength, 0.8); // the next in a file walking at an angle to the shadows
        var vehicleOnShadow = At(shadowLength, 1.6, className: "vehicle"); // on the neighbour's shadow: vehicles are never shadows
        var filter = new ShadowFilter(0.5);

        var kept = filter.Apply([body, shadow, abreast, behindAndAside, vehicleOnShadow], Morning, _camera, 1280, 720);

        Assert.DoesNotContain(shadow, kept);
        Assert.Contains(body, kept);
        Assert.Contains(abreast, kept);
        Assert.Contains(behindAndAside, kept);
        Assert.Contains(vehicleOnShadow, kept);
        Assert.Equal(1, filter.Dropped);
        Assert.Equal(_sun, filter.LastSun);
    }

    [Fact]
    public void People_in_file_straight_down_the_shadows_lose_every_second_member_not_all_but_one()
    {
        var step = _sun.ShadowLength(1.7);
        var file = Enumerable.Range(0, 4).Select(k => At(k * step, 0)).ToList();
        var kept = new ShadowFilter(0.5).Apply(file, Morning, _camera, 1280, 720);
        // Shadows cast no shadows: the second is taken for the first one's shadow, the third is a person again.
        Assert.Equal([file[0], file[2]], kept);
    }

    [Fact]
    public void Nothing_is_dropped_without_a_time_at_night_or_with_one_person()
    {
        var pair = new[] { At(0, 0), At(_sun.ShadowLength(1.7), 0) };
        var filter = new ShadowFilter(0.5);
        Assert.Equal(2, filter.Apply(pair, null, _camera, 1280, 720).Count);
        Assert.Equal("no KLV time", filter.NotFilteredBecause);
        Assert.Equal(2, filter.Apply(pair, new DateTimeOffset(2025, 6, 21, 15, 0, 0, TimeSpan.Zero), _camera, 1280, 720).Count); // midnight there
        Assert.StartsWith("the sun -", filter.NotFilteredBecause);
        Assert.Single(filter.Apply([pair[1]], Morning, _camera, 1280, 720));
        Assert.Equal(0, filter.Dropped);
        Assert.Equal(0, filter.FramesFiltered);
    }
}

/// <summary>
/// The filter inside `watch`: a simulated flight whose KLV time and place put the sun where the simulator draws the
/// shadows, and a detector that boxes each truth person and, as the drone model sometimes does, its shadow as a second
/// person. With the filter the shadows are dropped before tracking by the sun the pipeline reckons from the KLV.
/// </summary>
public sealed class ShadowFilterWatchTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sitewatch-shadows-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private sealed class PeopleAndTheirShadows(FlightTruth truth) : IFrameDetector
    {
        public string Name => "truth people, shadows boxed as people";

        public bool IsCheap => true;

        public (double High, double NewTrack)? TrackerGates => null;

        public IReadOnlyList<BoxDetection> Detect(VideoFrame frame, double? groundSampleDistance) =>
            truth.Frames[(int)frame.Index].Objects.Where(o => o.Class == "person" && o.Box is not null)
                .SelectMany(o => o.Shadow is { } shadow ? [Box(o.Box!, 0.9), Box(shadow, 0.7)] : new[] { Box(o.Box!, 0.9) })
                .ToList();

        private static BoxDetection Box(double[] b, double score) => new(PixelBox.FromCorners(b[0], b[1], b[2], b[3]), score, "person");

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Watch_drops_the_shadows_a_detector_boxes_as_people_by_the_sun_of_the_KLV()
    {
        // Seed 8's group of three walks through the view from about 7 s.
        var options = new FlightSimulationOptions { Seconds = 12, Fps = 5, Width = 1280, Height = 720, Seed = 8 };
        var (tsPath, truth) = await SimulatedFlights.WriteAsync(options, _dir);

        var shadowsBoxed = truth.Frames.Sum(f => f.Objects.Count(o => o.Class == "person" && o.Box is not null && o.Shadow is not null));
        using var dem = DemTerrain.Open(truth.Dem);
        async Task<(WatchSummary Summary, int PersonTracks)> Watch(bool filter)
        {
            var pipeline = new WatchPipeline([], new PeopleAndTheirShadows(truth),
                new WatchOptions { OutputDirectory = Path.Combine(_dir, $"watch-{filter}"), DetectEvery = 1, Dem = dem, WaitForDetections = true, ShadowFilter = filter });
            await using (pipeline)
            {
                await using var source = VideoSource.Open(tsPath);
                var summary = await pipeline.RunAsync(source.ReadFramesAsync());
                return (summary, pipeline.Record.Tracks.Count(t => t.ClassName == "person"));
            }
        }

        var (kept, keptTracks) = await Watch(false);
        var (filtered, filteredTracks) = await Watch(true);
        output.WriteLine($"{shadowsBoxed} shadows boxed as people; dropped {filtered.ShadowsDropped}; person tracks {keptTracks} without the filter, {filteredTracks} with it; {filtered.ShadowFilterNote}");

        Assert.True(shadowsBoxed >= 20, $"only {shadowsBoxed} shadows in view");
        Assert.Null(kept.ShadowsDropped);
        Assert.InRange(filtered.ShadowsDropped!.Value, (long)(0.9 * shadowsBoxed), shadowsBoxed);
        Assert.Contains("sun at azimuth 315, 41 degrees high", filtered.ShadowFilterNote);
        Assert.Equal(3, filteredTracks); // the three people, their shadows never tracked
        Assert.True(keptTracks >= 6, $"{keptTracks} person tracks without the filter");
    }
}
