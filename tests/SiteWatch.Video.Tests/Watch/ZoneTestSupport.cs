using System.Globalization;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Watch;

namespace SiteWatch.Video.Tests.Watch;

internal static class ZoneTestSupport
{
    public static readonly GeoPoint Origin = new(40.0, 127.0, 100);

    /// <summary>A position east/north metres from <see cref="Origin"/>.</summary>
    public static GeoPoint At(double east, double north) => Wgs84.FromEnu(Origin, new Vec3(east, north, 0)) with { HeightAboveEllipsoid = 100 };

    public static string Pos(double east, double north)
    {
        var p = At(east, north);
        return string.Create(CultureInfo.InvariantCulture, $"[{p.Longitude:R}, {p.Latitude:R}]");
    }

    /// <summary>A square zone from (x0, y0) to (x1, y1) metres.</summary>
    public static string Square(double x0, double y0, double x1, double y1, string properties) =>
        $$$"""{"type":"Feature","properties":{{{properties}}},"geometry":{"type":"Polygon","coordinates":[[{{{Pos(x0, y0)}}},{{{Pos(x1, y0)}}},{{{Pos(x1, y1)}}},{{{Pos(x0, y1)}}},{{{Pos(x0, y0)}}}]]}}""";

    /// <summary>A north-south line at x metres east, from y0 to y1.</summary>
    public static string NorthLine(double x, double y0, double y1, string properties) =>
        $$$"""{"type":"Feature","properties":{{{properties}}},"geometry":{"type":"LineString","coordinates":[{{{Pos(x, y0)}}},{{{Pos(x, y1)}}}]}}""";

    public static string Collection(params string[] features) => $$"""{"type":"FeatureCollection","features":[{{string.Join(",", features)}}]}""";

    public static IReadOnlyList<WatchZone> Zones(params string[] features) => WatchZoneFile.Parse(Collection(features), "zones.geojson");

    public static TrackObservation Obs(int id, double east, double north, bool confirmed = true, string cls = "car", double score = 0.9, double area = 8) =>
        new(id, confirmed, cls, score, area, At(east, north));
}
