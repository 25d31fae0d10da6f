namespace SiteWatch.Core.Detection;

/// <summary>
/// Overlap of detection rectangles: plain IoU for axis-aligned boxes, and for rotated ones the exact intersection of
/// the two convex quadrilaterals (Sutherland-Hodgman clipping), as DOTA-style OBB evaluation and NMS use.
/// </summary>
public static class BoxOverlap
{
    /// <summary>Intersection over union of two rectangles (0..1).</summary>
    public static double IoU(PixelDetection a, PixelDetection b)
    {
        var inter = Intersection(a, b);
        var union = a.Area + b.Area - inter;
        return union > 0 ? inter / union : 0;
    }

    /// <summary>Intersection over the smaller rectangle's area (0..1): 1 when one lies inside the other.</summary>
    public static double IoSmaller(PixelDetection a, PixelDetection b)
    {
        var smaller = Math.Min(a.Area, b.Area);
        return smaller > 0 ? Intersection(a, b) / smaller : 0;
    }

    /// <summary>Area common to both rectangles.</summary>
    public static double Intersection(PixelDetection a, PixelDetection b)
    {
        var ea = a.Extent();
        var eb = b.Extent();
        var w = Math.Min(ea.MaxX, eb.MaxX) - Math.Max(ea.MinX, eb.MinX);
        var h = Math.Min(ea.MaxY, eb.MaxY) - Math.Max(ea.MinY, eb.MinY);
        if (w <= 0 || h <= 0)
        {
            return 0;
        }
        if (IsAxisAligned(a) && IsAxisAligned(b))
        {
            return w * h;
        }
        return Math.Abs(SignedArea(Clip(a.Corners(), b.Corners())));
    }

    // Multiples of 90 degrees are axis-aligned too (a turned rectangle with width and height swapped).
    private static bool IsAxisAligned(PixelDetection d) => Math.Abs(Math.Sin(2 * d.AngleRadians)) < 1e-9;

    /// <summary>The part of convex polygon <paramref name="subject"/> inside convex polygon <paramref name="clip"/>.</summary>
    internal static List<(double X, double Y)> Clip(IReadOnlyList<(double X, double Y)> subject, IReadOnlyList<(double X, double Y)> clip)
    {
        // Orient the clip polygon counter-clockwise (in x-right, y-up terms) so "inside" is the left of each edge.
        var clipCcw = SignedArea(clip) >= 0 ? clip : clip.Reverse().ToArray();
        var output = new List<(double X, double Y)>(subject);
        for (var i = 0; i < clipCcw.Count && output.Count > 0; i++)
        {
            var (p, q) = (clipCcw[i], clipCcw[(i + 1) % clipCcw.Count]);
            var input = output;
            output = new List<(double X, double Y)>(input.Count + 2);
            for (var j = 0; j < input.Count; j++)
            {
                var current = input[j];
                var previous = input[(j + input.Count - 1) % input.Count];
                var currentIn = Side(p, q, current) >= 0;
                var previousIn = Side(p, q, previous) >= 0;
                if (currentIn)
                {
                    if (!previousIn)
                    {
                        output.Add(Crossing(p, q, previous, current));
                    }
                    output.Add(current);
                }
                else if (previousIn)
                {
                    output.Add(Crossing(p, q, previous, current));
                }
            }
        }
        return output;
    }

    private static double Side((double X, double Y) p, (double X, double Y) q, (double X, double Y) r) =>
        (q.X - p.X) * (r.Y - p.Y) - (q.Y - p.Y) * (r.X - p.X);

    private static (double X, double Y) Crossing((double X, double Y) p, (double X, double Y) q, (double X, double Y) a, (double X, double Y) b)
    {
        var sa = Side(p, q, a);
        var sb = Side(p, q, b);
        var t = sa / (sa - sb);
        return (a.X + t * (b.X - a.X), a.Y + t * (b.Y - a.Y));
    }

    internal static double SignedArea(IReadOnlyList<(double X, double Y)> polygon)
    {
        double sum = 0;
        for (var i = 0; i < polygon.Count; i++)
        {
            var (a, b) = (polygon[i], polygon[(i + 1) % polygon.Count]);
            sum += a.X * b.Y - b.X * a.Y;
        }
        return sum / 2;
    }

    /// <summary>
    /// Greedy non-maximum suppression within each class: the best-scoring detection is kept and every later one of
    /// its class overlapping it by more than <paramref name="iouThreshold"/> is dropped. Returns detections best first.
    /// </summary>
    public static List<PixelDetection> NonMaximumSuppression(IEnumerable<PixelDetection> detections, double iouThreshold, int maxDetections = int.MaxValue)
    {
        var kept = new List<PixelDetection>();
        foreach (var group in detections.GroupBy(d => d.ClassId))
        {
            var ordered = group.OrderByDescending(d => d.Score).ToList();
            var suppressed = new bool[ordered.Count];
            for (var i = 0; i < ordered.Count; i++)
            {
                if (suppressed[i])
                {
                    continue;
                }
                kept.Add(ordered[i]);
                for (var j = i + 1; j < ordered.Count; j++)
                {
                    if (!suppressed[j] && IoU(ordered[i], ordered[j]) > iouThreshold)
                    {
                        suppressed[j] = true;
                    }
                }
            }
        }
        return kept.OrderByDescending(d => d.Score).Take(maxDetections).ToList();
    }
}
