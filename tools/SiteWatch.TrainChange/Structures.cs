namespace SiteWatch.TrainChange;

/// <summary>
/// Synthetic structures painted over real imagery: roofs (bright concrete or metal, dark bitumen, red tile, blue-grey
/// sheeting; a ridge splits some into two lit halves), rows of small identical buildings (worker housing), and bare
/// earth pads (building sites). Each casts its shadow away from that date's sun, as long as its height says; the sun
/// differs between the dates, so a structure present on both keeps its roof and moves its shadow. A structure on one
/// date only is labelled change (its roof or pad, not its shadow, as building-change references are drawn).
/// </summary>
internal static class Structures
{
    private sealed record Box(double Cx, double Cy, double W, double H, double Angle, float[] Colour, bool Ridge, double HeightM, bool Pad);

    public static void Paint(Random rng, PairSample sample, double pixelMetres)
    {
        int t = sample.Tile;
        var boxes = new List<(Box Box, int Dates)>(); // Dates: 1 before only, 2 after only, 3 both
        int count = 1 + rng.Next(8);
        for (int k = 0; k < count; k++)
        {
            double u = rng.NextDouble();
            int dates = u < 0.35 ? 3 : u < 0.75 ? 2 : 1;
            double kind = rng.NextDouble();
            if (kind < 0.15)
            {
                // A row or block of small identical buildings.
                double unitW = (8 + rng.NextDouble() * 8) / pixelMetres, unitH = (8 + rng.NextDouble() * 6) / pixelMetres;
                double gap = unitW * (0.4 + rng.NextDouble() * 0.8);
                int cols = 2 + rng.Next(4), rows = 1 + rng.Next(3);
                double angle = rng.NextDouble() < 0.6 ? 0 : rng.NextDouble() * Math.PI;
                double cx = rng.NextDouble() * t, cy = rng.NextDouble() * t;
                var colour = RoofColour(rng);
                double height = 3 + rng.NextDouble() * 4;
                for (int r = 0; r < rows; r++)
                {
                    for (int c = 0; c < cols; c++)
                    {
                        double lx = (c - (cols - 1) / 2.0) * (unitW + gap), ly = (r - (rows - 1) / 2.0) * (unitH + gap);
                        double x = cx + lx * Math.Cos(angle) - ly * Math.Sin(angle), y = cy + lx * Math.Sin(angle) + ly * Math.Cos(angle);
                        boxes.Add((new Box(x, y, unitW, unitH, angle, colour, rng.NextDouble() < 0.5, height, false), dates));
                    }
                }
            }
            else
            {
                bool pad = kind > 0.8;
                double size = pad ? 20 + rng.NextDouble() * 100 : 10 + rng.NextDouble() * 60;
                double aspect = 1 + rng.NextDouble() * (pad ? 1 : 2.5);
                double w = size / pixelMetres, h = size / aspect / pixelMetres;
                double angle = rng.NextDouble() < 0.5 ? 0 : rng.NextDouble() * Math.PI;
                var colour = pad ? EarthColour(rng) : RoofColour(rng);
                boxes.Add((new Box(rng.NextDouble() * t, rng.NextDouble() * t, Math.Max(1.2, w), Math.Max(1.2, h), angle, colour,
                    !pad && rng.NextDouble() < 0.4, pad ? 0 : 4 + rng.NextDouble() * 16, pad), dates));
            }
        }
        for (int date = 0; date < 2; date++)
        {
            // This date's sun: azimuth from the south-east to the south-west, elevation 25-65 degrees.
            double azimuth = (100 + rng.NextDouble() * 160) * Math.PI / 180, elevation = (25 + rng.NextDouble() * 40) * Math.PI / 180;
            double reach = 1 / Math.Tan(elevation) / pixelMetres; // shadow length in pixels per metre of height
            // Shadows fall away from the sun: image x east, y south.
            double sx = -Math.Sin(azimuth) * reach, sy = Math.Cos(azimuth) * reach;
            float darkness = 0.35f + (float)rng.NextDouble() * 0.25f;
            var planes = sample.Input.AsSpan(date * 3 * t * t, 3 * t * t);
            var present = boxes.Where(b => (b.Dates & (date + 1)) != 0).Select(b => b.Box).ToList();
            foreach (var box in present.Where(b => !b.Pad))
            {
                Shadow(planes, t, box, sx * box.HeightM, sy * box.HeightM, darkness);
            }
            foreach (var box in present)
            {
                // The same roof looks a little different on another date (sun, sensor, weathering).
                float jitter = 1 + 0.06f * (float)(rng.NextDouble() * 2 - 1);
                Roof(planes, t, box, jitter, rng);
            }
        }
        foreach (var (box, dates) in boxes.Where(b => b.Dates != 3))
        {
            Cover(box, t, (i, coverage) =>
            {
                if (coverage >= 0.5f)
                {
                    sample.Label[i] = 1;
                }
            });
        }
    }

    private static float[] RoofColour(Random rng)
    {
        double u = rng.NextDouble();
        float v = (float)rng.NextDouble();
        return u switch
        {
            < 0.4 => Tint(0.7f + 0.3f * v, rng),             // concrete, metal
            < 0.6 => Tint(0.12f + 0.2f * v, rng),            // bitumen
            < 0.8 => [0.55f + 0.3f * v, 0.25f + 0.15f * v, 0.2f + 0.1f * v], // red tile, rust
            _ => [0.35f + 0.2f * v, 0.45f + 0.2f * v, 0.6f + 0.25f * v],     // blue-grey sheeting
        };
    }

    private static float[] EarthColour(Random rng)
    {
        float v = (float)rng.NextDouble();
        return [0.55f + 0.35f * v, 0.45f + 0.3f * v, 0.35f + 0.25f * v];
    }

    private static float[] Tint(float grey, Random rng) =>
        [.. Enumerable.Range(0, 3).Select(_ => Math.Clamp(grey * (1 + 0.08f * (float)(rng.NextDouble() * 2 - 1)), 0f, 1f))];

    private static void Roof(Span<float> planes, int t, Box box, float jitter, Random rng)
    {
        int n = t * t;
        var p = planes.ToArray();
        uint noiseSeed = (uint)rng.Next();
        Cover(box, t, (i, coverage) =>
        {
            float shade = 1;
            if (box.Ridge && Side(box, i % t + 0.5, i / t + 0.5) < 0)
            {
                shade = 0.8f; // the half of a pitched roof turned from the sun
            }
            float grain = 1 + 0.04f * (Hash(noiseSeed, (uint)i) - 0.5f);
            for (int c = 0; c < 3; c++)
            {
                float roof = Math.Clamp(box.Colour[c] * jitter * shade * grain, 0f, 1f);
                p[c * n + i] = (1 - coverage) * p[c * n + i] + coverage * roof;
            }
        });
        p.CopyTo(planes);
    }

    private static void Shadow(Span<float> planes, int t, Box box, double dx, double dy, float darkness)
    {
        int n = t * t;
        var shadow = new float[n];
        // The shadow of a box is its roof outline swept away from the sun; four steps along the sweep cover it.
        for (int step = 1; step <= 4; step++)
        {
            var moved = box with { Cx = box.Cx + dx * step / 4, Cy = box.Cy + dy * step / 4 };
            Cover(moved, t, (i, coverage) => shadow[i] = Math.Max(shadow[i], coverage));
        }
        var p = planes.ToArray();
        for (int i = 0; i < n; i++)
        {
            if (shadow[i] > 0)
            {
                for (int c = 0; c < 3; c++)
                {
                    // Blue keeps more of its light in shadow (skylight).
                    float f = c == 2 ? MathF.Sqrt(darkness) : darkness;
                    p[c * n + i] *= 1 - shadow[i] * (1 - f);
                }
            }
        }
        p.CopyTo(planes);
    }

    private static double Side(Box box, double x, double y)
    {
        double cos = Math.Cos(box.Angle), sin = Math.Sin(box.Angle);
        return -(x - box.Cx) * sin + (y - box.Cy) * cos;
    }

    /// <summary>Calls back with each pixel's coverage by the rotated box (4 x 4 samples per pixel).</summary>
    private static void Cover(Box box, int t, Action<int, float> pixel)
    {
        double cos = Math.Cos(box.Angle), sin = Math.Sin(box.Angle);
        double reach = (box.W + box.H) / 2 + 1;
        int x0 = Math.Max(0, (int)(box.Cx - reach)), x1 = Math.Min(t - 1, (int)(box.Cx + reach));
        int y0 = Math.Max(0, (int)(box.Cy - reach)), y1 = Math.Min(t - 1, (int)(box.Cy + reach));
        for (int y = y0; y <= y1; y++)
        {
            for (int x = x0; x <= x1; x++)
            {
                int inside = 0;
                for (int s = 0; s < 16; s++)
                {
                    double px = x + (s % 4 + 0.5) / 4 - box.Cx, py = y + (s / 4 + 0.5) / 4 - box.Cy;
                    double u = px * cos + py * sin, v = -px * sin + py * cos;
                    if (Math.Abs(u) <= box.W / 2 && Math.Abs(v) <= box.H / 2)
                    {
                        inside++;
                    }
                }
                if (inside > 0)
                {
                    pixel(y * t + x, inside / 16f);
                }
            }
        }
    }

    private static float Hash(uint seed, uint i)
    {
        uint h = seed ^ (i * 0x9E3779B1u);
        h ^= h >> 16;
        h *= 0x85EBCA6Bu;
        h ^= h >> 13;
        return (h & 0xFFFFFF) / (float)0x1000000;
    }
}
