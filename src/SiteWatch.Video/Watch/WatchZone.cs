using SiteWatch.Video.Geo;

namespace SiteWatch.Video.Watch;

/// <summary>What a zone watches for.</summary>
public enum ZoneRule
{
    /// <summary>A confirmed track goes from outside to inside (polygons, and lines with a buffer).</summary>
    Enter,
    /// <summary>A track changes sides of a line (with hysteresis, and only across the line itself).</summary>
    Cross,
    /// <summary>A track stays inside longer than <see cref="WatchZone.LoiterSeconds"/>.</summary>
    Loiter,
}

/// <summary>Zone rules by their names in the alert vocabulary (<see cref="Core.Alerts.RuleKind"/>): zone files and alerts use these.</summary>
public static class ZoneRuleNames
{
    public static string Name(this ZoneRule rule) => rule switch
    {
        ZoneRule.Enter => Core.Alerts.RuleKind.Enter,
        ZoneRule.Cross => Core.Alerts.RuleKind.Cross,
        ZoneRule.Loiter => Core.Alerts.RuleKind.Loiter,
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, null),
    };

    /// <summary>The rule a zone file names ("crossing" is an accepted spelling of cross); null when it names none.</summary>
    public static ZoneRule? Parse(string? name) => name switch
    {
        Core.Alerts.RuleKind.Enter => ZoneRule.Enter,
        Core.Alerts.RuleKind.Cross or "crossing" => ZoneRule.Cross,
        Core.Alerts.RuleKind.Loiter => ZoneRule.Loiter,
        _ => null,
    };
}

/// <summary>
/// One watch zone: a polygon, or a line (a corridor of <see cref="BufferMetres"/> each side when set), with NVR-style
/// rules and filters. Geometry is tested on a local tangent plane around the zone (metres east/north of its first
/// vertex), which is exact to well under a metre over the few kilometres a zone spans.
/// </summary>
public sealed class WatchZone
{
    private readonly LocalPlane _plane;
    private readonly List<List<(double X, double Y)>> _polygons; // rings: outer first, then holes, per polygon
    private readonly List<int> _ringOwner;
    private readonly List<(double X, double Y)> _line;

    internal WatchZone(string name, IReadOnlyList<IReadOnlyList<IReadOnlyList<(double Lon, double Lat)>>> polygons,
        IReadOnlyList<(double Lon, double Lat)>? line, ZoneSettings settings)
    {
        Name = name;
        Settings = settings;
        var origin = line is { Count: > 0 } ? line[0] : polygons[0][0][0];
        _plane = new LocalPlane(origin.Lat, origin.Lon);
        _polygons = [];
        _ringOwner = [];
        for (var p = 0; p < polygons.Count; p++)
        {
            foreach (var ring in polygons[p])
            {
                _polygons.Add(ring.Select(v => _plane.ToLocal(v.Lat, v.Lon)).ToList());
                _ringOwner.Add(p);
            }
        }

        _line = line?.Select(v => _plane.ToLocal(v.Lat, v.Lon)).ToList() ?? [];
        Polygons = polygons;
        Line = line;
    }

    public string Name { get; }

    public ZoneSettings Settings { get; }

    public IReadOnlySet<ZoneRule> Rules => Settings.Rules;

    public double LoiterSeconds => Settings.LoiterSeconds;

    public double BufferMetres => Settings.BufferMetres;

    /// <summary>Polygon rings as given (lon, lat): per polygon the outer ring, then holes. Empty for a line.</summary>
    public IReadOnlyList<IReadOnlyList<IReadOnlyList<(double Lon, double Lat)>>> Polygons { get; }

    /// <summary>The line's vertices (lon, lat), or null for a polygon zone.</summary>
    public IReadOnlyList<(double Lon, double Lat)>? Line { get; }

    public bool IsLine => Line is not null;

    /// <summary>Whether an area test is defined: polygons, or lines with a buffer.</summary>
    public bool HasArea => !IsLine || BufferMetres > 0;

    /// <summary>Inside the polygon (holes excluded), or within the buffer of the line.</summary>
    public bool Contains(double latitude, double longitude)
    {
        var p = _plane.ToLocal(latitude, longitude);
        if (IsLine)
        {
            return BufferMetres > 0 && Math.Abs(SignedDistance(p)) <= BufferMetres;
        }

        // Even-odd over all rings of each polygon: inside the outer ring and in no hole.
        var insideCount = new int[Polygons.Count];
        for (var r = 0; r < _polygons.Count; r++)
        {
            if (InRing(_polygons[r], p))
            {
                insideCount[_ringOwner[r]]++;
            }
        }

        return insideCount.Any(c => c % 2 == 1);
    }

    /// <summary>Distance to the line in metres, positive on its left (looking from the first vertex to the next).</summary>
    public double SignedDistanceToLine(double latitude, double longitude) =>
        IsLine ? SignedDistance(_plane.ToLocal(latitude, longitude)) : throw new InvalidOperationException($"zone {Name} is not a line");

    /// <summary>Whether the ground segment between two positions crosses the line.</summary>
    public bool SegmentCrossesLine(GeoPoint from, GeoPoint to)
    {
        var a = _plane.ToLocal(from.Latitude, from.Longitude);
        var b = _plane.ToLocal(to.Latitude, to.Longitude);
        for (var i = 0; i + 1 < _line.Count; i++)
        {
            if (SegmentsIntersect(a, b, _line[i], _line[i + 1]))
            {
                return true;
            }
        }

        return false;
    }

    private double SignedDistance((double X, double Y) p)
    {
        var best = double.PositiveInfinity;
        var sign = 1.0;
        for (var i = 0; i + 1 < _line.Count; i++)
        {
            var (ax, ay) = _line[i];
            var (bx, by) = _line[i + 1];
            double dx = bx - ax, dy = by - ay;
            var lengthSquared = dx * dx + dy * dy;
            var t = lengthSquared > 0 ? Math.Clamp(((p.X - ax) * dx + (p.Y - ay) * dy) / lengthSquared, 0, 1) : 0;
            var ex = p.X - (ax + t * dx);
            var ey = p.Y - (ay + t * dy);
            var d = Math.Sqrt(ex * ex + ey * ey);
            if (d < best)
            {
                best = d;
                var cross = dx * (p.Y - ay) - dy * (p.X - ax);
                sign = cross >= 0 ? 1 : -1;
            }
        }

        return sign * best;
    }

    private static bool InRing(List<(double X, double Y)> ring, (double X, double Y) p)
    {
        var inside = false;
        for (int i = 0, j = ring.Count - 1; i < ring.Count; j = i++)
        {
            var (xi, yi) = ring[i];
            var (xj, yj) = ring[j];
            if ((yi > p.Y) != (yj > p.Y) && p.X < (xj - xi) * (p.Y - yi) / (yj - yi) + xi)
            {
                inside = !inside;
            }
        }

        return inside;
    }

    private static bool SegmentsIntersect((double X, double Y) a, (double X, double Y) b, (double X, double Y) c, (double X, double Y) d)
    {
        static double Orient((double X, double Y) p, (double X, double Y) q, (double X, double Y) r) =>
            (q.X - p.X) * (r.Y - p.Y) - (q.Y - p.Y) * (r.X - p.X);

        var d1 = Orient(c, d, a);
        var d2 = Orient(c, d, b);
        var d3 = Orient(a, b, c);
        var d4 = Orient(a, b, d);
        return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0) || d1 == 0 || d2 == 0)
            && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0) || d3 == 0 || d4 == 0)
            && !(d1 == 0 && d2 == 0 && d3 == 0 && d4 == 0 && !Overlaps(a, b, c, d));
    }

    private static bool Overlaps((double X, double Y) a, (double X, double Y) b, (double X, double Y) c, (double X, double Y) d) =>
        Math.Max(Math.Min(a.X, b.X), Math.Min(c.X, d.X)) <= Math.Min(Math.Max(a.X, b.X), Math.Max(c.X, d.X))
        && Math.Max(Math.Min(a.Y, b.Y), Math.Min(c.Y, d.Y)) <= Math.Min(Math.Max(a.Y, b.Y), Math.Max(c.Y, d.Y));

    public override string ToString() => $"{Name} ({(IsLine ? "line" : "polygon")}: {string.Join(", ", Rules)})";
}

/// <summary>A zone's rules and filters (Frigate-style names in the GeoJSON properties).</summary>
public sealed record ZoneSettings
{
    public IReadOnlySet<ZoneRule> Rules { get; init; } = new HashSet<ZoneRule>();

    /// <summary>loiter_seconds: time inside before a loiter alert.</summary>
    public double LoiterSeconds { get; init; } = 30;

    /// <summary>classes: only these classes raise alerts (empty: all).</summary>
    public IReadOnlySet<string> Classes { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>min_score: the track's mean recent score must reach this.</summary>
    public double MinScore { get; init; }

    /// <summary>min_area_m2: the object's box on the ground must be at least this large.</summary>
    public double MinAreaM2 { get; init; }

    /// <summary>cooldown_seconds: after an alert of this zone and rule, others are held back this long.</summary>
    public double CooldownSeconds { get; init; }

    /// <summary>buffer_m: for lines, a corridor this wide on each side (enables enter and loiter).</summary>
    public double BufferMetres { get; init; }

    /// <summary>hysteresis_m: a side of a line counts only this far from it, so jitter on the line is no crossing.</summary>
    public double HysteresisMetres { get; init; } = 2;

    /// <summary>inertia: consecutive frames a track must be inside (or outside) before the change counts.</summary>
    public int Inertia { get; init; } = 3;
}

/// <summary>East/north metres around an origin (flat-earth with the ellipsoid's radii of curvature at the origin).</summary>
internal readonly struct LocalPlane(double latitude, double longitude)
{
    private readonly double _metresPerRadianNorth = Wgs84.MeridianRadius(latitude);
    private readonly double _metresPerRadianEast = Wgs84.PrimeVerticalRadius(latitude) * Math.Cos(latitude * Math.PI / 180);

    public (double X, double Y) ToLocal(double lat, double lon)
    {
        var dLon = Wgs84.NormalizeLongitude(lon - longitude);
        return (dLon * Math.PI / 180 * _metresPerRadianEast, (lat - latitude) * Math.PI / 180 * _metresPerRadianNorth);
    }
}
