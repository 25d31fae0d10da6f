namespace SiteWatch.Demo.Flight;

/// <summary>
/// The ground's colours as seen from above, on a square of local metres: terrain coloured by height and slope
/// (valley grass, scrub, rock, snow) with hillshade and two octaves of value noise, the road, the footpath, and the
/// border: a cleared strip with a painted line and red posts. Sampled bilinearly.
/// </summary>
public sealed class GroundTexture
{
    private readonly byte[] _bgr;
    private readonly int _size;
    private readonly double _half;
    private readonly double _texel;

    /// <param name="halfSizeMetres">Half the side of the square centred on the origin.</param>
    /// <param name="texelMetres">Ground size of one texel.</param>
    /// <param name="height">Terrain height at local (x, y) metres.</param>
    public GroundTexture(FlightWorld world, Func<double, double, double> height, double halfSizeMetres, double texelMetres, int seed)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(height);
        _half = halfSizeMetres;
        _texel = texelMetres;
        _size = (int)Math.Ceiling(2 * halfSizeMetres / texelMetres);
        _bgr = new byte[checked(_size * _size * 3)];
        PaintTerrain(height, seed);
        PaintShrubs(seed);
        PaintPath(world.Road, 3.2, (88, 88, 92), (120, 112, 96), 0.8);
        PaintPath(world.Footpath, 0.7, (150, 128, 96), null, 0);
        PaintBorder(world);
    }

    public double HalfSizeMetres => _half;

    /// <summary>Colour at local metres (bilinear, 8-bit weights) into <paramref name="bgr"/>; outside the square the edge texels.</summary>
    public void Sample(double x, double y, Span<byte> bgr)
    {
        var u = (x + _half) / _texel - 0.5;
        var v = (_half - y) / _texel - 0.5;
        var limit = _size - 1.001;
        u = u < 0 ? 0 : u > limit ? limit : u;
        v = v < 0 ? 0 : v > limit ? limit : v;
        var i = (int)u;
        var j = (int)v;
        var fu = (int)((u - i) * 256);
        var fv = (int)((v - j) * 256);
        int w00 = (256 - fu) * (256 - fv), w10 = fu * (256 - fv), w01 = (256 - fu) * fv, w11 = fu * fv;
        var texels = _bgr.AsSpan((j * _size + i) * 3);
        var below = texels[(_size * 3)..];
        for (var c = 0; c < 3; c++)
        {
            bgr[c] = (byte)((texels[c] * w00 + texels[c + 3] * w10 + below[c] * w01 + below[c + 3] * w11 + 32768) >> 16);
        }
    }

    private void PaintTerrain(Func<double, double, double> height, int seed)
    {
        // Heights on a 4 m lattice (a DEM is far coarser than a texel), interpolated per texel.
        const double cell = 4;
        var n = (int)Math.Ceiling(2 * _half / cell) + 2;
        var h = new double[n * n];
        var min = double.MaxValue;
        var max = double.MinValue;
        for (var j = 0; j < n; j++)
        {
            for (var i = 0; i < n; i++)
            {
                var value = height(-_half + i * cell, _half - j * cell);
                h[j * n + i] = value;
                min = Math.Min(min, value);
                max = Math.Max(max, value);
            }
        }

        var range = Math.Max(1, max - min);
        // Shaded for a sun in the north-west, 45 degrees up (the simulator's default sun stands at 315 degrees, 40.6 up).
        double sx = -0.5, sy = 0.5, sz = Math.Sqrt(0.5);
        Parallel.For(0, _size, row =>
        {
            for (var col = 0; col < _size; col++)
            {
                var x = -_half + (col + 0.5) * _texel;
                var y = _half - (row + 0.5) * _texel;
                var gu = (x + _half) / cell;
                var gv = (_half - y) / cell;
                var i = Math.Min((int)gu, n - 2);
                var j = Math.Min((int)gv, n - 2);
                double fu = gu - i, fv = gv - j;
                var h00 = h[j * n + i];
                var h10 = h[j * n + i + 1];
                var h01 = h[(j + 1) * n + i];
                var h11 = h[(j + 1) * n + i + 1];
                var z = (h00 * (1 - fu) + h10 * fu) * (1 - fv) + (h01 * (1 - fu) + h11 * fu) * fv;
                var dzdx = ((h10 - h00) * (1 - fv) + (h11 - h01) * fv) / cell;
                var dzdy = -((h01 - h00) * (1 - fu) + (h11 - h10) * fu) / cell;
                var norm = Math.Sqrt(dzdx * dzdx + dzdy * dzdy + 1);
                var shade = 0.55 + 0.6 * Math.Max(0, (-dzdx * sx - dzdy * sy + sz) / norm);
                var slope = Math.Sqrt(dzdx * dzdx + dzdy * dzdy);
                var t = (z - min) / range;
                var noise = Noise.Value(seed, x / 14, y / 14) * 0.6 + Noise.Value(seed + 1, x / 3.5, y / 3.5) * 0.3 + Noise.Hash01(seed + 2, col, row) * 0.1;
                // Grass in the valleys, scrub and rock higher and on steep slopes, patches of snow near the top.
                var rock = Math.Clamp((t - 0.45) * 2.2 + slope * 0.8 + (noise - 0.5) * 0.5, 0, 1);
                var snow = Math.Clamp((t - 0.88) * 8 + (noise - 0.5), 0, 1);
                double r = 88 + 40 * rock, g = 112 - 4 * rock, b = 58 + 48 * rock;
                r += (232 - r) * snow;
                g += (236 - g) * snow;
                b += (240 - b) * snow;
                var tone = shade * (0.85 + 0.3 * noise);
                var p = (row * _size + col) * 3;
                _bgr[p] = ToByte(b * tone);
                _bgr[p + 1] = ToByte(g * tone);
                _bgr[p + 2] = ToByte(r * tone);
            }
        });
    }

    /// <summary>
    /// Shrubs and small trees on the greener ground (one chance per 5 m cell), each a dark disc with its shadow to
    /// the south-east: the mid-scale detail a tracker and a viewer's eye lock on to.
    /// </summary>
    private void PaintShrubs(int seed)
    {
        const double cell = 5;
        var cells = (int)(2 * _half / cell);
        for (var cj = 0; cj < cells; cj++)
        {
            for (var ci = 0; ci < cells; ci++)
            {
                var x = -_half + (ci + Noise.Hash01(seed + 11, ci, cj)) * cell;
                var y = _half - (cj + Noise.Hash01(seed + 12, ci, cj)) * cell;
                var col = (int)((x + _half) / _texel);
                var row = (int)((_half - y) / _texel);
                if ((uint)col >= (uint)_size || (uint)row >= (uint)_size)
                {
                    continue;
                }

                var p = (row * _size + col) * 3;
                // Green dominates on grass; rock and snow get few shrubs.
                var greenness = _bgr[p + 1] - (_bgr[p] + _bgr[p + 2]) / 2.0;
                if (Noise.Hash01(seed + 13, ci, cj) > 0.08 + greenness / 60)
                {
                    // Boulders on the bare ground instead: pale grey, smaller, with a short shadow.
                    if (greenness < 5 && Noise.Hash01(seed + 16, ci, cj) < 0.3)
                    {
                        var size = 0.4 + 0.8 * Noise.Hash01(seed + 17, ci, cj);
                        Disc(x + 0.4 * size, y - 0.4 * size, size, 60, 55, 50, 0.5);
                        var grey = (byte)(150 + 60 * Noise.Hash01(seed + 18, ci, cj));
                        Disc(x, y, size, grey, grey, (byte)(grey - 8), 1.0);
                    }

                    continue;
                }

                var radius = 0.7 + 1.6 * Noise.Hash01(seed + 14, ci, cj);
                Disc(x + 0.6 * radius, y - 0.6 * radius, radius, 30, 38, 28, 0.45);
                var tone = 0.75 + 0.5 * Noise.Hash01(seed + 15, ci, cj);
                Disc(x, y, radius, (byte)(38 * tone), (byte)(72 * tone), (byte)(34 * tone), 1.0);
            }
        }
    }

    private void Disc(double x, double y, double radius, byte r, byte g, byte b, double alpha)
    {
        for (var dy = -radius; dy <= radius; dy += _texel)
        {
            for (var dx = -radius; dx <= radius; dx += _texel)
            {
                if (dx * dx + dy * dy <= radius * radius)
                {
                    Set(x + dx, y + dy, r, g, b, alpha);
                }
            }
        }
    }

    /// <summary>Stamps a path of the given half width, with an optional darker shoulder.</summary>
    private void PaintPath(LocalPath path, double halfWidth, (byte R, byte G, byte B) surface, (byte R, byte G, byte B)? shoulder, double shoulderWidth)
    {
        var step = _texel / 2;
        for (var s = 0.0; s <= path.Length; s += step)
        {
            var (x, y, heading) = path.At(s);
            var (sin, cos) = Math.SinCos(heading);
            var outer = halfWidth + shoulderWidth;
            for (var o = -outer; o <= outer; o += _texel / 2)
            {
                var colour = Math.Abs(o) <= halfWidth || shoulder is null ? surface : shoulder.Value;
                Set(x + o * cos, y - o * sin, colour.R, colour.G, colour.B, 1.0);
            }
        }
    }

    private void PaintBorder(FlightWorld world)
    {
        var (dx, dy) = world.BorderDirection;
        var (a, b) = (world.Border[0], world.Border[1]);
        var length = Math.Sqrt((b.X - a.X) * (b.X - a.X) + (b.Y - a.Y) * (b.Y - a.Y));
        for (var s = 0.0; s <= length; s += _texel / 2)
        {
            var x = a.X + s * dx;
            var y = a.Y + s * dy;
            for (var o = -5.0; o <= 5.0; o += _texel / 2)
            {
                var px = x - o * dy;
                var py = y + o * dx;
                if (Math.Abs(o) <= 0.4)
                {
                    Set(px, py, 245, 245, 240, 1.0); // the painted line
                }
                else
                {
                    Set(px, py, 176, 150, 112, 0.55); // the cleared strip: bare soil blended into the ground
                }
            }

            // Red posts, 1 m square, every 25 m on the line.
            if (s % 25 < _texel / 2)
            {
                for (var u = -0.5; u <= 0.5; u += _texel / 2)
                {
                    for (var w = -0.5; w <= 0.5; w += _texel / 2)
                    {
                        Set(x + u, y + w, 210, 30, 30, 1.0);
                    }
                }
            }
        }
    }

    private void Set(double x, double y, byte r, byte g, byte b, double alpha)
    {
        var col = (int)Math.Floor((x + _half) / _texel);
        var row = (int)Math.Floor((_half - y) / _texel);
        if ((uint)col >= (uint)_size || (uint)row >= (uint)_size)
        {
            return;
        }

        var p = (row * _size + col) * 3;
        _bgr[p] = (byte)(_bgr[p] + (b - _bgr[p]) * alpha);
        _bgr[p + 1] = (byte)(_bgr[p + 1] + (g - _bgr[p + 1]) * alpha);
        _bgr[p + 2] = (byte)(_bgr[p + 2] + (r - _bgr[p + 2]) * alpha);
    }

    private static byte ToByte(double v) => (byte)Math.Clamp(v + 0.5, 0, 255);
}

/// <summary>Deterministic lattice value noise in [0, 1).</summary>
internal static class Noise
{
    public static double Hash01(int seed, int x, int y)
    {
        unchecked
        {
            var h = (uint)seed * 0x9E3779B1u ^ (uint)x * 0x85EBCA77u ^ (uint)y * 0xC2B2AE3Du;
            h ^= h >> 15;
            h *= 0x2C1B3C6Du;
            h ^= h >> 12;
            h *= 0x297A2D39u;
            h ^= h >> 15;
            return (h & 0xFFFFFF) / (double)0x1000000;
        }
    }

    /// <summary>Smoothly interpolated noise with features about one unit apart.</summary>
    public static double Value(int seed, double x, double y)
    {
        var xi = (int)Math.Floor(x);
        var yi = (int)Math.Floor(y);
        var fx = x - xi;
        var fy = y - yi;
        fx = fx * fx * (3 - 2 * fx);
        fy = fy * fy * (3 - 2 * fy);
        var a = Hash01(seed, xi, yi);
        var b = Hash01(seed, xi + 1, yi);
        var c = Hash01(seed, xi, yi + 1);
        var d = Hash01(seed, xi + 1, yi + 1);
        return (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
    }
}
