using SiteWatch.Gdal;

namespace SiteWatch.Tests.Registration;

/// <summary>
/// An analytic textured ground for registration tests: plane waves with a 1/f-like spectrum, soft-edged rectangles
/// ("buildings") and Gaussian blobs ("trees"). Scenes sample it exactly at any pixel -> ground mapping, so a known
/// sub-pixel shift, rotation or distortion is the truth to the last digit, with no resampling error in the test data.
/// </summary>
internal sealed class SyntheticGround
{
    private const int Bin = 64;
    private readonly (double Kx, double Ky, double Phase, double Amp)[] _waves;
    private readonly (double X0, double Y0, double X1, double Y1, double Amp)[] _rects;
    private readonly (double X, double Y, double S, double Amp)[] _blobs;
    private readonly Dictionary<(int, int), List<int>> _rectBins = [];
    private readonly Dictionary<(int, int), List<int>> _blobBins = [];

    public SyntheticGround(int seed, double size)
    {
        var rng = new Random(seed);
        _waves = new (double, double, double, double)[120];
        for (var i = 0; i < _waves.Length; i++)
        {
            // Wavelengths 4-200 px: nothing the pixel grid would alias.
            var lambda = Math.Exp(Math.Log(4) + rng.NextDouble() * (Math.Log(200) - Math.Log(4)));
            var direction = rng.NextDouble() * Math.PI;
            var k = 2 * Math.PI / lambda;
            _waves[i] = (k * Math.Cos(direction), k * Math.Sin(direction), rng.NextDouble() * 2 * Math.PI, 20 * Math.Pow(lambda, 0.6));
        }
        var rectangles = (int)(size * size / 12000);
        _rects = new (double, double, double, double, double)[rectangles];
        for (var i = 0; i < rectangles; i++)
        {
            double w = 6 + rng.NextDouble() * 40, h = 6 + rng.NextDouble() * 40;
            double x = rng.NextDouble() * size, y = rng.NextDouble() * size;
            _rects[i] = (x, y, x + w, y + h, (rng.NextDouble() - 0.3) * 900);
            Register(_rectBins, i, x - 3, y - 3, x + w + 3, y + h + 3);
        }
        var blobs = (int)(size * size / 2500);
        _blobs = new (double, double, double, double)[blobs];
        for (var i = 0; i < blobs; i++)
        {
            double x = rng.NextDouble() * size, y = rng.NextDouble() * size, s = 1.2 + rng.NextDouble() * 3;
            _blobs[i] = (x, y, s, (rng.NextDouble() - 0.5) * 700);
            Register(_blobBins, i, x - 4 * s, y - 4 * s, x + 4 * s, y + 4 * s);
        }
    }

    /// <summary>Ground of the pixel centred at (x, y) for an affine map: u = m0 + m1 x + m2 y, v = m3 + m4 x + m5 y.</summary>
    public static double[] Shift(double dx, double dy) => [dx, 1, 0, dy, 0, 1];

    /// <summary>Rotation by <paramref name="degrees"/> about (cx, cy) followed by a shift.</summary>
    public static double[] RotationAndShift(double degrees, double cx, double cy, double dx, double dy)
    {
        var t = degrees * Math.PI / 180;
        double c = Math.Cos(t), s = Math.Sin(t);
        return [cx + dx - c * cx + s * cy, c, -s, cy + dy - s * cx - c * cy, s, c];
    }

    /// <summary>
    /// Samples the ground at the pixel centres under an affine pixel -> ground map (separable evaluation of the waves,
    /// since a plane wave stays a plane wave under an affine map), with gain, offset and Gaussian noise.
    /// </summary>
    public float[] Render(int width, int height, double[] map, int noiseSeed, double noiseSigma, double gain = 1, double offset = 0)
    {
        var image = new double[width * height];
        var cx = new double[width];
        var sx = new double[width];
        var cy = new double[height];
        var sy = new double[height];
        foreach (var (kx, ky, phase, amp) in _waves)
        {
            var fx = kx * map[1] + ky * map[4];
            var fy = kx * map[2] + ky * map[5];
            var q = kx * map[0] + ky * map[3] + phase;
            for (var c = 0; c < width; c++)
            {
                (sx[c], cx[c]) = Math.SinCos(fx * (c + 0.5) + q);
            }
            for (var r = 0; r < height; r++)
            {
                (sy[r], cy[r]) = Math.SinCos(fy * (r + 0.5));
            }
            for (var r = 0; r < height; r++)
            {
                var o = r * width;
                double cr = cy[r] * amp, sr = sy[r] * amp;
                for (var c = 0; c < width; c++)
                {
                    image[o + c] += cx[c] * cr - sx[c] * sr;
                }
            }
        }
        AddFeatures(image, width, height, (x, y) => (map[0] + map[1] * x + map[2] * y, map[3] + map[4] * x + map[5] * y));
        return Finish(image, noiseSeed, noiseSigma, gain, offset);
    }

    /// <summary>Samples the ground under any pixel -> ground map (slower: every wave at every pixel).</summary>
    public float[] Render(int width, int height, Func<double, double, (double U, double V)> map, int noiseSeed, double noiseSigma)
    {
        var image = new double[width * height];
        Parallel.For(0, height, r =>
        {
            for (var c = 0; c < width; c++)
            {
                var (u, v) = map(c + 0.5, r + 0.5);
                double s = 0;
                foreach (var (kx, ky, phase, amp) in _waves)
                {
                    s += amp * Math.Cos(kx * u + ky * v + phase);
                }
                image[r * width + c] = s;
            }
        });
        AddFeatures(image, width, height, map);
        return Finish(image, noiseSeed, noiseSigma, 1, 0);
    }

    private void AddFeatures(double[] image, int width, int height, Func<double, double, (double U, double V)> map)
    {
        Parallel.For(0, height, r =>
        {
            for (var c = 0; c < width; c++)
            {
                var (u, v) = map(c + 0.5, r + 0.5);
                var key = ((int)Math.Floor(u / Bin), (int)Math.Floor(v / Bin));
                double s = 0;
                if (_rectBins.TryGetValue(key, out var rl))
                {
                    foreach (var i in rl)
                    {
                        var t = _rects[i];
                        s += t.Amp * Edge(u - t.X0) * Edge(t.X1 - u) * Edge(v - t.Y0) * Edge(t.Y1 - v);
                    }
                }
                if (_blobBins.TryGetValue(key, out var bl))
                {
                    foreach (var i in bl)
                    {
                        var b = _blobs[i];
                        var d2 = (u - b.X) * (u - b.X) + (v - b.Y) * (v - b.Y);
                        if (d2 < 16 * b.S * b.S)
                        {
                            s += b.Amp * Math.Exp(-d2 / (2 * b.S * b.S));
                        }
                    }
                }
                image[r * width + c] += s;
            }
        });
    }

    private static float[] Finish(double[] image, int noiseSeed, double noiseSigma, double gain, double offset)
    {
        var rng = new Random(noiseSeed);
        var result = new float[image.Length];
        for (var i = 0; i < image.Length; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            var g = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            result[i] = (float)(gain * (image[i] + 3000) + offset + noiseSigma * g);
        }
        return result;
    }

    private static void Register(Dictionary<(int, int), List<int>> bins, int index, double x0, double y0, double x1, double y1)
    {
        for (var by = (int)Math.Floor(y0 / Bin); by <= (int)Math.Floor(y1 / Bin); by++)
        {
            for (var bx = (int)Math.Floor(x0 / Bin); bx <= (int)Math.Floor(x1 / Bin); bx++)
            {
                if (!bins.TryGetValue((bx, by), out var list))
                {
                    bins[(bx, by)] = list = [];
                }
                list.Add(index);
            }
        }
    }

    /// <summary>A soft edge (optics): Gaussian-blurred step of 0.7 px.</summary>
    private static double Edge(double d) => 0.5 * (1 + Erf(d / (0.7 * Math.Sqrt(2))));

    private static double Erf(double x)
    {
        // Abramowitz and Stegun 7.1.26, accurate to 1.5e-7.
        var t = 1 / (1 + 0.3275911 * Math.Abs(x));
        var y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return x >= 0 ? y : -y;
    }
}

/// <summary>Rasters for registration tests: one site grid in UTM 52N, 2 m pixels, uint16 with nodata 0.</summary>
internal static class RegistrationRasters
{
    public static RasterProfile Profile(int width, int height, int bands = 2) => new(width, height, bands, RasterDataType.UInt16)
    {
        GeoTransform = GeoTransform.NorthUp(500_000, 4_400_000, 2.0),
        Crs = "EPSG:32652",
        NoData = 0,
        BandDescriptions = Enumerable.Range(1, bands).Select(b => $"band{b}").ToArray(),
    };

    /// <summary>The image in every band (band b scaled by 1 + 0.1 b), as uint16, in memory or (when a path is given) a closed GeoTIFF reopened read-only.</summary>
    public static RasterDataset Write(float[] image, int width, int height, string? path = null, int bands = 2, Func<int, int, bool>? noData = null)
    {
        var profile = Profile(width, height, bands);
        var raster = path is null ? RasterDataset.CreateInMemory(profile) : RasterDataset.Create(path, profile);
        try
        {
            var data = new ushort[image.Length];
            for (var b = 1; b <= bands; b++)
            {
                for (var i = 0; i < image.Length; i++)
                {
                    data[i] = noData is not null && noData(i % width, i / width) ? (ushort)0 : (ushort)Math.Clamp(Math.Round(image[i] * (1 + 0.1 * b)), 1, 65535);
                }
                raster.Write<ushort>(b, new RasterWindow(0, 0, width, height), data);
            }
        }
        catch
        {
            raster.Dispose();
            throw;
        }
        if (path is null)
        {
            return raster;
        }
        raster.Dispose();
        return RasterDataset.Open(path);
    }

    /// <summary>Root mean square distance between the fitted and the true target -> reference mapping over a grid of the scene.</summary>
    public static double FieldRmse(SiteWatch.Core.Registration.CoRegistrationResult result, Func<double, double, (double X, double Y)> truth, int width, int height)
    {
        double sum = 0;
        var n = 0;
        for (var y = 8.0; y < height; y += 16)
        {
            for (var x = 8.0; x < width; x += 16)
            {
                var (ex, ey) = result.TargetToReference(x, y);
                var (tx, ty) = truth(x, y);
                sum += (ex - tx) * (ex - tx) + (ey - ty) * (ey - ty);
                n++;
            }
        }
        return Math.Sqrt(sum / n);
    }
}
