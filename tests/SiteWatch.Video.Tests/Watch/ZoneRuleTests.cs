using SiteWatch.Video.Watch;
using static SiteWatch.Video.Tests.Watch.ZoneTestSupport;

namespace SiteWatch.Video.Tests.Watch;

public class ZoneRuleTests
{
    private static List<RuleHit> Run(ZoneRuleEngine engine, Func<int, IEnumerable<TrackObservation>> frame, int frames, double fps = 10)
    {
        var hits = new List<RuleHit>();
        for (var f = 0; f < frames; f++)
        {
            hits.AddRange(engine.Evaluate(frame(f), TimeSpan.FromSeconds(f / fps)));
        }

        return hits;
    }

    [Fact]
    public void Enter_fires_once_when_a_track_goes_inside()
    {
        var engine = new ZoneRuleEngine(Zones(Square(0, 0, 100, 100, """{"name":"yard"}""")));
        // Walks east along y = 50 from x = -50 to x = 150 at 2 m per frame, then back.
        var hits = Run(engine, f => [Obs(1, f < 100 ? -50 + 2 * f : 150 - 2 * (f - 100), 50)], 200);
        var hit = Assert.Single(hits);
        Assert.Equal(ZoneRule.Enter, hit.Rule);
        Assert.Equal("yard", hit.Zone.Name);
        // Inside from frame 25 (x = 0); inertia 3 frames.
        Assert.InRange(hit.Time.TotalSeconds, 2.5, 2.9);
    }

    [Fact]
    public void Track_first_seen_inside_never_enters()
    {
        var engine = new ZoneRuleEngine(Zones(Square(0, 0, 100, 100, """{"name":"yard"}""")));
        Assert.Empty(Run(engine, f => [Obs(1, 50 + f * 0.1, 50)], 50));
    }

    [Fact]
    public void Enter_while_tentative_fires_on_confirmation()
    {
        var engine = new ZoneRuleEngine(Zones(Square(0, 0, 100, 100, """{"name":"yard"}""")));
        var hits = Run(engine, f => [Obs(1, -10 + 2 * f, 50, confirmed: f >= 20)], 30);
        Assert.Equal(2.0, Assert.Single(hits).Time.TotalSeconds, 3);
    }

    [Fact]
    public void Cross_needs_the_hysteresis_and_the_line_itself()
    {
        var engine = new ZoneRuleEngine(Zones(NorthLine(0, -100, 100, """{"name":"border","hysteresis_m":3}""")));
        // Track 1 jitters +-2 m around the line: never 3 m on the other side.
        // Track 2 walks around the line's north end (y = 150) from west to east: a side change, no crossing.
        // Track 3 crosses at y = 0 from west to east.
        var hits = Run(engine, f =>
        [
            Obs(1, f % 2 == 0 ? -2 : 2, 0),
            Obs(2, -20 + f, 150),
            Obs(3, -20 + f, 0),
        ], 40);
        var hit = Assert.Single(hits);
        Assert.Equal(3, hit.Track.TrackId);
        Assert.Equal(ZoneRule.Cross, hit.Rule);
        Assert.InRange(hit.Time.TotalSeconds, 2.3, 2.4); // 3 m east of the line at frame 23
    }

    [Fact]
    public void Corridor_around_a_line_supports_enter()
    {
        var engine = new ZoneRuleEngine(Zones(NorthLine(0, -100, 100, """{"name":"strip","buffer_m":10,"rules":["enter","cross"]}""")));
        var hits = Run(engine, f => [Obs(1, -30 + f, 0)], 60);
        Assert.Equal([ZoneRule.Enter, ZoneRule.Cross], hits.Select(h => h.Rule));
        Assert.InRange(hits[0].Time.TotalSeconds, 2.0, 2.3); // inside from x = -10 (frame 20) plus inertia
    }

    [Fact]
    public void Loiter_fires_after_the_given_time()
    {
        var engine = new ZoneRuleEngine(Zones(Square(0, 0, 100, 100, """{"name":"gate","rules":["loiter"],"loiter_seconds":5}""")));
        var hits = Run(engine, f => [Obs(1, 50, 50), Obs(2, f < 30 ? 50 : 500, 50)], 100);
        var hit = Assert.Single(hits);
        Assert.Equal(1, hit.Track.TrackId);
        Assert.Equal(5.0, hit.Time.TotalSeconds, 3);
    }

    [Fact]
    public void Filters_hold_back_classes_scores_and_small_objects()
    {
        var engine = new ZoneRuleEngine(Zones(Square(0, 0, 100, 100,
            """{"name":"yard","classes":["truck"],"min_score":0.5,"min_area_m2":10}""")));
        var hits = Run(engine, f =>
        [
            Obs(1, -10 + 2 * f, 50, cls: "car", area: 20),
            Obs(2, -10 + 2 * f, 60, cls: "truck", score: 0.4, area: 20),
            Obs(3, -10 + 2 * f, 70, cls: "Truck", area: 5),
            Obs(4, -10 + 2 * f, 80, cls: "truck", area: 20),
        ], 20);
        Assert.Equal(4, Assert.Single(hits).Track.TrackId);
        Assert.Equal(3, engine.Filtered);
    }

    [Fact]
    public void Cooldown_suppresses_following_alerts_of_the_zone()
    {
        var engine = new ZoneRuleEngine(Zones(Square(0, 0, 100, 100, """{"name":"yard","cooldown_seconds":10}""")));
        // Tracks 1..3 enter 2 s apart; track 4 enters 12 s after the first.
        var starts = new Dictionary<int, int> { [1] = 0, [2] = 20, [3] = 40, [4] = 120 };
        var hits = Run(engine, f => starts.Where(s => f >= s.Value).Select(s => Obs(s.Key, -10 + 2 * (f - s.Value), 10 * s.Key)), 200);
        Assert.Equal([1, 4], hits.Select(h => h.Track.TrackId));
        Assert.Equal(2, engine.Suppressed);
    }

    [Fact]
    public void Holes_are_outside()
    {
        var json = Collection($$$"""{"type":"Feature","properties":{"name":"ring"},"geometry":{"type":"Polygon","coordinates":[[{{{Pos(0, 0)}}},{{{Pos(100, 0)}}},{{{Pos(100, 100)}}},{{{Pos(0, 100)}}},{{{Pos(0, 0)}}}],[{{{Pos(40, 40)}}},{{{Pos(60, 40)}}},{{{Pos(60, 60)}}},{{{Pos(40, 60)}}},{{{Pos(40, 40)}}}]]}}""");
        var zone = WatchZoneFile.Parse(json, "z.geojson").Single();
        var inRing = At(20, 20);
        var inHole = At(50, 50);
        Assert.True(zone.Contains(inRing.Latitude, inRing.Longitude));
        Assert.False(zone.Contains(inHole.Latitude, inHole.Longitude));
    }
}
