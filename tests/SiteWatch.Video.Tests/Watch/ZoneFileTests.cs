using SiteWatch.Core;
using SiteWatch.Video.Watch;
using static SiteWatch.Video.Tests.Watch.ZoneTestSupport;

namespace SiteWatch.Video.Tests.Watch;

public class ZoneFileTests
{
    [Fact]
    public void Reads_rules_and_filters()
    {
        var zones = Zones(
            Square(0, 0, 10, 10, """{"name":"yard","rules":["enter","loiter"],"loiter_seconds":12.5,"classes":["person"],"min_score":0.4,"min_area_m2":0.5,"cooldown_seconds":30,"stroke":"#f00"}"""),
            NorthLine(0, 0, 100, """{"name":"border","buffer_m":50}"""));
        Assert.Equal(2, zones.Count);
        var yard = zones[0];
        Assert.Equal(new HashSet<ZoneRule> { ZoneRule.Enter, ZoneRule.Loiter }, yard.Rules);
        Assert.Equal(12.5, yard.LoiterSeconds);
        Assert.Contains("PERSON", yard.Settings.Classes);
        Assert.Equal(0.4, yard.Settings.MinScore);
        Assert.Equal(30, yard.Settings.CooldownSeconds);
        var border = zones[1];
        Assert.True(border.IsLine);
        Assert.Equal([ZoneRule.Cross], border.Rules); // a line's default rule
        Assert.Equal(50, border.BufferMetres);
    }

    [Theory]
    [InlineData("""{"type":"Feature"}""", "feature 1: not a Feature with a geometry")]
    [InlineData("""{"type":"Feature","properties":{"name":"p"},"geometry":{"type":"Point","coordinates":[127,40]}}""", "feature 1 ('p'): geometry type 'Point' is not a zone")]
    [InlineData("""{"type":"Feature","properties":{"name":7},"geometry":{"type":"LineString","coordinates":[[127,40],[127,41]]}}""", "feature 1: property 'name' must be a non-empty string, got the number 7")]
    [InlineData("""{"type":"Feature","properties":{"name":"l","min_score":"high"},"geometry":{"type":"LineString","coordinates":[[127,40],[127,41]]}}""", "feature 1 ('l'): property 'min_score' must be a number, got the string \"high\"")]
    [InlineData("""{"type":"Feature","properties":{"name":"l","min_score":1.5},"geometry":{"type":"LineString","coordinates":[[127,40],[127,41]]}}""", "property 'min_score' must be 0..1, got 1.5")]
    [InlineData("""{"type":"Feature","properties":{"name":"l","rules":["enter"]},"geometry":{"type":"LineString","coordinates":[[127,40],[127,41]]}}""", "'enter' and 'loiter' on a line need 'buffer_m'")]
    [InlineData("""{"type":"Feature","properties":{"name":"l","rules":["jump"]},"geometry":{"type":"LineString","coordinates":[[127,40],[127,41]]}}""", "unknown rule 'jump'")]
    [InlineData("""{"type":"Feature","properties":{"name":"l"},"geometry":{"type":"LineString","coordinates":[[500000,4400000],[500100,4400000]]}}""", "is not WGS84 longitude/latitude")]
    [InlineData("""{"type":"Feature","properties":{"name":"q"},"geometry":{"type":"Polygon","coordinates":[[[127,40],[127.1,40],[127.1,40.1]]]}}""", "feature 1 ('q'): ring 0 must be closed")]
    [InlineData("""{"type":"Feature","properties":{"name":"l","classes":"car"},"geometry":{"type":"LineString","coordinates":[[127,40],[127,41]]}}""", "property 'classes' must be an array of class names, got the string \"car\"")]
    public void Bad_features_name_the_feature_and_field(string feature, string expected)
    {
        var good = NorthLine(0, 0, 100, """{"name":"ok"}""");
        var e = Assert.Throws<SiteWatchException>(() => WatchZoneFile.Parse(Collection(good, feature), "zones.geojson"));
        Assert.StartsWith("zones.geojson: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("""{"name":"l","min_score":null}""", "feature 1 ('l'): property 'min_score' must be a number, got null")]
    [InlineData("""{"name":"l","inertia":2.5}""", "feature 1 ('l'): property 'inertia' must be an integer, got the number 2.5")]
    [InlineData("""{"name":"l","inertia":0}""", "feature 1 ('l'): property 'inertia' must be an integer 1..1000, got 0")]
    [InlineData("""{"name":"l","rules":[]}""", "property 'rules' must be a non-empty array")]
    [InlineData("""{"name":"l","rules":["cross", 3]}""", "property 'rules' must be a non-empty array of \"enter\", \"cross\", \"loiter\", got an array")]
    [InlineData("""{"name":"l","loiter_seconds":0,"buffer_m":5}""", "property 'loiter_seconds' must be above 0, got 0")]
    public void Values_are_checked_against_the_types_and_bounds_the_zone_properties_declare(string properties, string expected)
    {
        var good = NorthLine(0, 0, 100, """{"name":"ok"}""");
        var e = Assert.Throws<SiteWatchException>(() => WatchZoneFile.Parse(Collection(good, NorthLine(5, 0, 100, properties)), "zones.geojson"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_schema_is_generated_from_the_zone_properties_and_their_defaults_are_the_readers()
    {
        var schema = ZoneSchema.Generate();
        var properties = schema["properties"]!["features"]!["items"]!["properties"]!["properties"]!["properties"]!.AsObject();
        Assert.Equal(
            ["name", "rules", "rule", "loiter_seconds", "classes", "min_score", "min_area_m2", "cooldown_seconds", "buffer_m", "hysteresis_m", "inertia"],
            properties.Select(p => p.Key));
        Assert.All(properties, p => Assert.False(string.IsNullOrWhiteSpace((string?)p.Value!["description"]), p.Key));
        Assert.Equal(1.0, (double)properties["min_score"]!["maximum"]!);
        Assert.Equal(0.0, (double)properties["loiter_seconds"]!["exclusiveMinimum"]!);
        Assert.Equal("integer", (string?)properties["inertia"]!["type"]);
        // What the schema promises as defaults is what a zone without those properties gets.
        var zone = Assert.Single(Zones(Square(0, 0, 10, 10, """{"name":"bare"}""")));
        Assert.Equal(zone.Settings.LoiterSeconds, (double)properties["loiter_seconds"]!["default"]!);
        Assert.Equal(zone.Settings.HysteresisMetres, (double)properties["hysteresis_m"]!["default"]!);
        Assert.Equal(zone.Settings.Inertia, (int)properties["inertia"]!["default"]!);
        Assert.Equal(zone.Settings.MinScore, (double)properties["min_score"]!["default"]!);
        Assert.Equal(zone.Settings.CooldownSeconds, (double)properties["cooldown_seconds"]!["default"]!);
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("""{"type":"Feature"}""", "expected a GeoJSON FeatureCollection")]
    [InlineData("""{"type":"FeatureCollection","features":[]}""", "has no zones")]
    public void Bad_files_are_named(string json, string expected)
    {
        var e = Assert.Throws<SiteWatchException>(() => WatchZoneFile.Parse(json, "z.geojson"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Duplicate_names_are_refused()
    {
        var e = Assert.Throws<SiteWatchException>(() => Zones(NorthLine(0, 0, 1, """{"name":"a"}"""), NorthLine(5, 0, 1, """{"name":"a"}""")));
        Assert.Contains("'a' is used by more than one feature", e.Message);
    }

    [Fact]
    public void Missing_file_is_named()
    {
        var e = Assert.Throws<SiteWatchException>(() => WatchZoneFile.Load("/nonexistent/zones.geojson"));
        Assert.StartsWith("/nonexistent/zones.geojson: ", e.Message);
    }
}
