namespace SiteWatch.Demo.Flight;

/// <summary>
/// Local metres around the scenario's origin (x east, y north) and back to WGS 84, on the tangent plane at the origin.
/// The scenario is a few kilometres wide, so the flat-Earth mapping is exact enough, and every part of the simulator
/// uses this one mapping both ways (truth and rendering agree to the millimetre).
/// </summary>
public sealed class LocalFrame(double originLatitude, double originLongitude)
{
    private readonly double _metresPerDegLat = Video.Geo.Wgs84.MeridianRadius(originLatitude) * Math.PI / 180;
    private readonly double _metresPerDegLon = Video.Geo.Wgs84.PrimeVerticalRadius(originLatitude) * Math.Cos(originLatitude * Math.PI / 180) * Math.PI / 180;

    public double OriginLatitude { get; } = originLatitude;
    public double OriginLongitude { get; } = originLongitude;

    public (double Latitude, double Longitude) ToLatLon(double x, double y) =>
        (OriginLatitude + y / _metresPerDegLat, OriginLongitude + x / _metresPerDegLon);

    public (double X, double Y) ToLocal(double latitude, double longitude) =>
        ((longitude - OriginLongitude) * _metresPerDegLon, (latitude - OriginLatitude) * _metresPerDegLat);
}

/// <summary>A polyline in local metres, walked by arc length.</summary>
public sealed class LocalPath
{
    private readonly (double X, double Y)[] _points;
    private readonly double[] _arc;

    public LocalPath(IReadOnlyList<(double X, double Y)> points)
    {
        if (points.Count < 2)
        {
            throw new ArgumentException("A path needs at least two points.", nameof(points));
        }

        _points = [.. points];
        _arc = new double[_points.Length];
        for (var i = 1; i < _points.Length; i++)
        {
            _arc[i] = _arc[i - 1] + Math.Sqrt(Sq(_points[i].X - _points[i - 1].X) + Sq(_points[i].Y - _points[i - 1].Y));
        }
    }

    public IReadOnlyList<(double X, double Y)> Points => _points;

    public double Length => _arc[^1];

    /// <summary>A smooth path through control points (Catmull-Rom, <paramref name="perSegment"/> points per span).</summary>
    public static LocalPath Smooth(IReadOnlyList<(double X, double Y)> control, int perSegment = 16)
    {
        var points = new List<(double, double)>();
        for (var i = 0; i < control.Count - 1; i++)
        {
            var p0 = control[Math.Max(0, i - 1)];
            var p1 = control[i];
            var p2 = control[i + 1];
            var p3 = control[Math.Min(control.Count - 1, i + 2)];
            for (var k = 0; k < perSegment; k++)
            {
                var t = k / (double)perSegment;
                double t2 = t * t, t3 = t2 * t;
                points.Add((
                    0.5 * (2 * p1.X + (-p0.X + p2.X) * t + (2 * p0.X - 5 * p1.X + 4 * p2.X - p3.X) * t2 + (-p0.X + 3 * p1.X - 3 * p2.X + p3.X) * t3),
                    0.5 * (2 * p1.Y + (-p0.Y + p2.Y) * t + (2 * p0.Y - 5 * p1.Y + 4 * p2.Y - p3.Y) * t2 + (-p0.Y + 3 * p1.Y - 3 * p2.Y + p3.Y) * t3)));
            }
        }

        points.Add(control[^1]);
        return new LocalPath(points);
    }

    /// <summary>Position and direction of travel (radians clockwise from north) at an arc length, clamped to the ends.</summary>
    public (double X, double Y, double Heading) At(double s)
    {
        s = Math.Clamp(s, 0, Length);
        var i = Array.BinarySearch(_arc, s);
        i = i >= 0 ? Math.Min(i, _arc.Length - 2) : Math.Max(0, ~i - 1);
        var a = _points[i];
        var b = _points[i + 1];
        var span = _arc[i + 1] - _arc[i];
        var f = span > 0 ? (s - _arc[i]) / span : 0;
        return (a.X + f * (b.X - a.X), a.Y + f * (b.Y - a.Y), Math.Atan2(b.X - a.X, b.Y - a.Y));
    }

    /// <summary>Arc length of the first crossing with the infinite line through <paramref name="p"/> along <paramref name="d"/>; null if none.</summary>
    public double? FirstCrossing((double X, double Y) p, (double X, double Y) d)
    {
        double Side((double X, double Y) q) => d.X * (q.Y - p.Y) - d.Y * (q.X - p.X);
        for (var i = 0; i + 1 < _points.Length; i++)
        {
            double s0 = Side(_points[i]), s1 = Side(_points[i + 1]);
            if (s0 == 0)
            {
                return _arc[i];
            }

            if (Math.Sign(s0) != Math.Sign(s1))
            {
                return _arc[i] + s0 / (s0 - s1) * (_arc[i + 1] - _arc[i]);
            }
        }

        return null;
    }

    private static double Sq(double v) => v * v;
}

public enum SimulatedObjectClass
{
    Vehicle,
    Person,
}

/// <summary>
/// A vehicle or person moving along a path at constant speed from <see cref="StartArc"/>, offset sideways by
/// <see cref="Lateral"/> metres (to the right of travel); it stops at the path's end.
/// </summary>
public sealed record SimulatedObject(int Id, SimulatedObjectClass Class, LocalPath Path, double StartArc, double Speed, double Lateral,
    double Length, double Width, byte R, byte G, byte B)
{
    public string ClassName => Class == SimulatedObjectClass.Vehicle ? "vehicle" : "person";

    /// <summary>Local position and heading (radians clockwise from north) at a time in seconds.</summary>
    public (double X, double Y, double Heading) At(double time)
    {
        var (x, y, heading) = Path.At(StartArc + Speed * time);
        var (s, c) = Math.SinCos(heading);
        // Right of travel is (cos h, -sin h) in (east, north).
        return (x + Lateral * c, y - Lateral * s, heading);
    }
}

/// <summary>
/// The scene of a simulated border flight, in local metres around the origin: a road and a footpath that cross a
/// straight border line near the origin, a polygon watch zone beside the road, and the moving objects, timed so that
/// they cross the border during the flight.
/// </summary>
public sealed class FlightWorld
{
    public FlightWorld(int seed, double seconds, int extraPeople = 0)
    {
        var random = new Random(seed);
        // Border bearing 95-115 degrees: roughly east-west across the north-south road.
        var bearing = (95 + 20 * random.NextDouble()) * Math.PI / 180;
        BorderDirection = (Math.Sin(bearing), Math.Cos(bearing));
        BorderPoint = (0, 0);
        Border = [(-1500 * BorderDirection.X, -1500 * BorderDirection.Y), (1500 * BorderDirection.X, 1500 * BorderDirection.Y)];

        double Jitter(double amount) => (random.NextDouble() * 2 - 1) * amount;
        Road = LocalPath.Smooth([
            (-320 + Jitter(40), -1400), (-150 + Jitter(40), -700), (-40 + Jitter(20), -250), (10, 0), (70 + Jitter(20), 260),
            (220 + Jitter(40), 700), (380 + Jitter(40), 1400),
        ]);
        Footpath = LocalPath.Smooth([(-260 + Jitter(20), -700), (-190 + Jitter(15), -260), (-140, 0), (-120 + Jitter(15), 220), (-60 + Jitter(20), 700)]);

        // A 70 x 45 m checkpoint yard east of the road, 40 m north of the border.
        var (yx, yy, _) = Road.At(Road.FirstCrossing(BorderPoint, BorderDirection)!.Value + 40);
        Zone = [(yx + 6, yy - 20), (yx + 76, yy - 20), (yx + 76, yy + 25), (yx + 6, yy + 25)];

        var roadCross = Road.FirstCrossing(BorderPoint, BorderDirection)!.Value;
        var pathCross = Footpath.FirstCrossing(BorderPoint, BorderDirection)!.Value;
        var objects = new List<SimulatedObject>();
        var id = 1;
        (byte, byte, byte)[] paints = [(200, 30, 30), (235, 235, 230), (30, 60, 160), (40, 40, 45), (210, 180, 40), (40, 120, 60), (150, 150, 155)];
        (byte, byte, byte) Paint() => paints[random.Next(paints.Length)];

        // Northbound vehicles that cross at 30 % and 65 % of the flight; one southbound at 50 %; one parked south of the line.
        foreach (var (fraction, speed) in new[] { (0.30, 9.0 + Jitter(2)), (0.65, 11.0 + Jitter(2)) })
        {
            var (r, g, b) = Paint();
            objects.Add(new SimulatedObject(id++, SimulatedObjectClass.Vehicle, Road, roadCross - speed * fraction * seconds, speed, 1.8, 4.5, 1.9, r, g, b));
        }

        var reversed = new LocalPath([.. Road.Points.Reverse()]);
        var southCross = reversed.Length - roadCross;
        var southSpeed = 8.0 + Jitter(1.5);
        var (sr, sg, sb) = Paint();
        objects.Add(new SimulatedObject(id++, SimulatedObjectClass.Vehicle, reversed, southCross - southSpeed * 0.5 * seconds, southSpeed, 1.8, 4.8, 2.0, sr, sg, sb));
        var (pr, pg, pb) = Paint();
        objects.Add(new SimulatedObject(id++, SimulatedObjectClass.Vehicle, Road, roadCross - 60, 0, 5.0, 4.5, 1.9, pr, pg, pb));

        // A group of three people on the footpath, crossing at 45 % of the flight.
        const double walk = 1.4;
        for (var k = 0; k < 3; k++)
        {
            var shade = (byte)(60 + 30 * k);
            objects.Add(new SimulatedObject(id++, SimulatedObjectClass.Person, Footpath, pathCross - walk * 0.45 * seconds - 1.6 * k, walk, (k - 1) * 0.8,
                0.6, 0.6, shade, (byte)(shade / 2 + 20), (byte)(shade / 3)));
        }

        var (cx, cy, _) = Road.At(roadCross);
        // A generator of their own, so the scenario's draws stay the same.
        AddWalkers(objects, ref id, ScrambledRandom(seed, 0x5bd1e995), cx, cy, seconds, extraPeople);
        Objects = objects;
    }

    /// <summary>
    /// A generator for draws that must not follow the seed: the first draws of .NET's seeded Random step almost evenly
    /// from one seed to the next (a sweep, not a sample, over consecutive seeds), so the seed is scrambled first
    /// (Knuth's multiplicative hash); a different <paramref name="salt"/> (0 to int.MaxValue) gives one seed another
    /// generator.
    /// </summary>
    public static Random ScrambledRandom(int seed, int salt) => new((int)(((uint)seed * 2654435761u) >> 1) ^ salt);

    /// <summary>
    /// <paramref name="count"/> people in files of one to four, each file on a straight line through a random point
    /// within 120 m of (<paramref name="cx"/>, <paramref name="cy"/>), where it is at mid-flight, in a random
    /// direction at 0.8-1.8 m/s, members 1.2-2.5 m apart with a sideways step of up to 0.8 m, in dark to mid-toned
    /// clothing.
    /// </summary>
    private static void AddWalkers(List<SimulatedObject> objects, ref int id, Random random, double cx, double cy, double seconds, int count)
    {
        // Dark to mid tones: the ground's stones are light dots of a person's size, and at one or two pixels (the
        // codec halves colour resolution) a light-clad person cannot be told from one, so such people would teach a
        // detector to call every stone a person.
        (byte, byte, byte)[] clothing =
        [
            (30, 30, 35), (60, 50, 20), (90, 65, 30), (120, 80, 40), (60, 70, 45), (40, 55, 90), (150, 35, 30), (100, 100, 105),
        ];
        while (count > 0)
        {
            var members = Math.Min(count, 1 + random.Next(4));
            count -= members;
            var distance = 120 * Math.Sqrt(random.NextDouble());
            var angle = random.NextDouble() * 2 * Math.PI;
            var (mx, my) = (cx + distance * Math.Sin(angle), cy + distance * Math.Cos(angle));
            var (ds, dc) = Math.SinCos(random.NextDouble() * 2 * Math.PI);
            var speed = 0.8 + random.NextDouble();
            var spacing = 1.2 + 1.3 * random.NextDouble();
            var half = speed * seconds / 2 + 4 * spacing + 1;
            var line = new LocalPath([(mx - half * ds, my - half * dc), (mx + half * ds, my + half * dc)]);
            for (var k = 0; k < members; k++)
            {
                var (r, g, b) = clothing[random.Next(clothing.Length)];
                var size = 0.5 + 0.2 * random.NextDouble();
                objects.Add(new SimulatedObject(id++, SimulatedObjectClass.Person, line, half - speed * seconds / 2 - spacing * k, speed,
                    (random.NextDouble() * 2 - 1) * 0.8, size, size, r, g, b));
            }
        }
    }

    public (double X, double Y) BorderPoint { get; }

    /// <summary>Unit vector along the border line (east, north).</summary>
    public (double X, double Y) BorderDirection { get; }

    /// <summary>The border as drawn: a 3 km segment through <see cref="BorderPoint"/>.</summary>
    public IReadOnlyList<(double X, double Y)> Border { get; }

    public LocalPath Road { get; }

    public LocalPath Footpath { get; }

    /// <summary>The polygon watch zone (a yard beside the road), counter-clockwise.</summary>
    public IReadOnlyList<(double X, double Y)> Zone { get; }

    public IReadOnlyList<SimulatedObject> Objects { get; }

    /// <summary>Which side of the border a point is on: positive left of the line's direction.</summary>
    public double BorderSide(double x, double y) =>
        BorderDirection.X * (y - BorderPoint.Y) - BorderDirection.Y * (x - BorderPoint.X);

    public bool InZone(double x, double y)
    {
        var inside = false;
        for (int i = 0, j = Zone.Count - 1; i < Zone.Count; j = i++)
        {
            var (xi, yi) = Zone[i];
            var (xj, yj) = Zone[j];
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
            {
                inside = !inside;
            }
        }

        return inside;
    }
}
