using NetTopologySuite.Algorithm;
using NetTopologySuite.Geometries;

namespace SiteWatch.Demo.Plant;

/// <summary>
/// Lightweight polygon for the rasteriser, in local plant metres (x east, y north from the plant centre).
/// Rings are interleaved x,y and implicitly closed; holes run opposite to their shell so that the
/// signed-area rasteriser cuts them out.
/// </summary>
internal sealed class Shape
{
    public Shape(double[][] rings)
    {
        if (rings.Length == 0)
        {
            throw new ArgumentException("A shape needs at least one ring.", nameof(rings));
        }

        Rings = rings;
        MinX = MinY = double.PositiveInfinity;
        MaxX = MaxY = double.NegativeInfinity;
        foreach (var ring in rings)
        {
            for (int i = 0; i < ring.Length; i += 2)
            {
                MinX = Math.Min(MinX, ring[i]);
                MaxX = Math.Max(MaxX, ring[i]);
                MinY = Math.Min(MinY, ring[i + 1]);
                MaxY = Math.Max(MaxY, ring[i + 1]);
            }
        }
    }

    public double[][] Rings { get; }

    public double MinX { get; }

    public double MinY { get; }

    public double MaxX { get; }

    public double MaxY { get; }

    /// <summary>Rectangle of <paramref name="length"/> along direction <paramref name="angle"/> (radians from east, CCW).</summary>
    public static Shape Box(double cx, double cy, double length, double width, double angle = 0) =>
        new([BoxRing(cx, cy, length, width, angle)]);

    public static double[] BoxRing(double cx, double cy, double length, double width, double angle)
    {
        double c = Math.Cos(angle), s = Math.Sin(angle);
        double hl = length / 2, hw = width / 2;
        double[] ring = new double[8];
        ReadOnlySpan<double> us = [-hl, hl, hl, -hl];
        ReadOnlySpan<double> vs = [-hw, -hw, hw, hw];
        for (int i = 0; i < 4; i++)
        {
            ring[2 * i] = cx + us[i] * c - vs[i] * s;
            ring[2 * i + 1] = cy + us[i] * s + vs[i] * c;
        }

        return ring;
    }

    /// <summary>Axis-aligned rectangle from its extent.</summary>
    public static Shape Rect(double minX, double minY, double maxX, double maxY) =>
        new([[minX, minY, maxX, minY, maxX, maxY, minX, maxY]]);

    public static Shape FromPoints(IReadOnlyList<(double X, double Y)> points)
    {
        double[] ring = new double[points.Count * 2];
        for (int i = 0; i < points.Count; i++)
        {
            ring[2 * i] = points[i].X;
            ring[2 * i + 1] = points[i].Y;
        }

        return new Shape([ring]);
    }

    /// <summary>Converts a (multi)polygon, normalising shells counter-clockwise and holes clockwise.</summary>
    public static Shape FromGeometry(Geometry geometry)
    {
        var rings = new List<double[]>();
        for (int g = 0; g < geometry.NumGeometries; g++)
        {
            if (geometry.GetGeometryN(g) is not Polygon polygon || polygon.IsEmpty)
            {
                continue;
            }

            rings.Add(ToRing(polygon.Shell, counterClockwise: true));
            foreach (var hole in polygon.Holes)
            {
                rings.Add(ToRing(hole, counterClockwise: false));
            }
        }

        return new Shape([.. rings]);
    }

    private static double[] ToRing(LineString ring, bool counterClockwise)
    {
        var coords = ring.Coordinates;
        int n = coords.Length - 1; // drop the closing point
        bool isCcw = Orientation.IsCCW(coords);
        double[] result = new double[n * 2];
        for (int i = 0; i < n; i++)
        {
            var c = coords[isCcw == counterClockwise ? i : n - 1 - i];
            result[2 * i] = c.X;
            result[2 * i + 1] = c.Y;
        }

        return result;
    }

    /// <summary>
    /// Shadow of a prism standing on this (convex) outline between heights <paramref name="h0"/> and
    /// <paramref name="h1"/>: the convex hull of the outline displaced by h0 and h1 times the shadow vector.
    /// </summary>
    public Shape ShadowOfPrism(double h0, double h1, double shadowDx, double shadowDy)
    {
        var outer = Rings[0];
        int n = outer.Length / 2;
        var pts = new (double X, double Y)[2 * n];
        for (int i = 0; i < n; i++)
        {
            pts[i] = (outer[2 * i] + h0 * shadowDx, outer[2 * i + 1] + h0 * shadowDy);
            pts[n + i] = (outer[2 * i] + h1 * shadowDx, outer[2 * i + 1] + h1 * shadowDy);
        }

        return FromPoints(ConvexHull(pts));
    }

    /// <summary>Andrew's monotone chain; returns the hull counter-clockwise.</summary>
    public static List<(double X, double Y)> ConvexHull((double X, double Y)[] points)
    {
        var pts = (ValueTuple<double, double>[])points.Clone();
        Array.Sort(pts, (a, b) => a.Item1 != b.Item1 ? a.Item1.CompareTo(b.Item1) : a.Item2.CompareTo(b.Item2));
        var hull = new List<(double X, double Y)>(pts.Length + 1);
        for (int pass = 0; pass < 2; pass++)
        {
            int start = hull.Count;
            for (int k = 0; k < pts.Length; k++)
            {
                var p = pass == 0 ? pts[k] : pts[pts.Length - 1 - k];
                while (hull.Count >= start + 2 && Cross(hull[^2], hull[^1], p) <= 0)
                {
                    hull.RemoveAt(hull.Count - 1);
                }

                hull.Add(p);
            }

            hull.RemoveAt(hull.Count - 1);
        }

        return hull;
    }

    private static double Cross((double X, double Y) o, (double X, double Y) a, (double X, double Y) b) =>
        (a.X - o.X) * (b.Y - o.Y) - (a.Y - o.Y) * (b.X - o.X);

    /// <summary>Thin strip following a polyline at a lateral offset (left positive), e.g. one rail of a track.</summary>
    public static Shape Strip(IReadOnlyList<(double X, double Y)> line, double offset, double width)
    {
        var left = Offset(line, offset + width / 2);
        var right = Offset(line, offset - width / 2);
        right.Reverse();
        left.AddRange(right);
        return FromPoints(left);
    }

    /// <summary>Offsets a smooth polyline by averaging the normals of adjacent segments at each vertex.</summary>
    public static List<(double X, double Y)> Offset(IReadOnlyList<(double X, double Y)> line, double d)
    {
        int n = line.Count;
        var result = new List<(double X, double Y)>(n);
        for (int i = 0; i < n; i++)
        {
            var (ax, ay) = Normal(line, Math.Max(0, i - 1), Math.Max(1, i));
            var (bx, by) = Normal(line, Math.Min(n - 2, i), Math.Min(n - 1, i + 1));
            double nx = ax + bx, ny = ay + by;
            double len = Math.Sqrt(nx * nx + ny * ny);
            nx /= len;
            ny /= len;
            // Miter length keeps the strip's width constant through bends.
            double cos = Math.Max(0.5, nx * ax + ny * ay);
            result.Add((line[i].X + nx * d / cos, line[i].Y + ny * d / cos));
        }

        return result;
    }

    private static (double X, double Y) Normal(IReadOnlyList<(double X, double Y)> line, int i, int j)
    {
        double dx = line[j].X - line[i].X, dy = line[j].Y - line[i].Y;
        double len = Math.Sqrt(dx * dx + dy * dy);
        return (-dy / len, dx / len);
    }

    /// <summary>Chaikin corner cutting; endpoints are kept so the line still reaches its ends.</summary>
    public static List<(double X, double Y)> Chaikin(IReadOnlyList<(double X, double Y)> line, int iterations)
    {
        var current = new List<(double X, double Y)>(line);
        for (int it = 0; it < iterations; it++)
        {
            var next = new List<(double X, double Y)>(current.Count * 2) { current[0] };
            for (int i = 0; i < current.Count - 1; i++)
            {
                var p = current[i];
                var q = current[i + 1];
                if (i > 0)
                {
                    next.Add((0.75 * p.X + 0.25 * q.X, 0.75 * p.Y + 0.25 * q.Y));
                }

                if (i < current.Count - 2)
                {
                    next.Add((0.25 * p.X + 0.75 * q.X, 0.25 * p.Y + 0.75 * q.Y));
                }
            }

            next.Add(current[^1]);
            current = next;
        }

        return current;
    }
}
