using SiteWatch.Gdal;

namespace SiteWatch.Core.Registration;

/// <summary>
/// Reads the matching image of one scene: the mean of the chosen bands, with a validity mask (0 where any band is
/// nodata or NaN, the exclusion mask is set, or the window runs off the raster). Windows are read one at a time into
/// reused buffers, so memory stays bounded for scenes of any size. Not thread-safe (neither is the raster).
/// </summary>
internal sealed class SceneReader
{
    /// <summary>Full-resolution pixels read per side and per GDAL call while decimating (bounds the working set).</summary>
    private const int DecimationTileSide = 2048;

    private readonly RasterDataset _raster;
    private readonly int[] _bands;
    private readonly RasterDataset? _mask;
    private float[] _band = [];
    private float[] _inside = [];
    private byte[] _insideValid = [];

    public SceneReader(RasterDataset raster, IReadOnlyList<int> bands, RasterDataset? exclusionMask)
    {
        _raster = raster;
        _bands = bands.ToArray();
        _mask = exclusionMask;
    }

    public int Width => _raster.Width;
    public int Height => _raster.Height;
    /// <summary>How messages name the scene.</summary>
    public string Name(string role) => CoRegistration.Name(_raster, role);

    /// <summary>
    /// Band mean and validity of a window that may extend beyond the raster (outside pixels are invalid).
    /// Buffers hold width * height values.
    /// </summary>
    public void Read(int column, int row, int width, int height, float[] mean, byte[] valid)
    {
        var n = width * height;
        Array.Clear(mean, 0, n);
        Array.Clear(valid, 0, n);
        var c0 = Math.Max(0, column);
        var r0 = Math.Max(0, row);
        var c1 = Math.Min(_raster.Width, column + width);
        var r1 = Math.Min(_raster.Height, row + height);
        if (c1 <= c0 || r1 <= r0)
        {
            return;
        }
        var inside = new RasterWindow(c0, r0, c1 - c0, r1 - r0);
        var m = (int)inside.PixelCount;
        if (_inside.Length < m)
        {
            _inside = new float[m];
            _insideValid = new byte[m];
        }
        var sum = _inside;
        var ok = _insideValid;
        ReadInside(inside, sum, ok);
        for (var r = 0; r < inside.Height; r++)
        {
            var src = r * inside.Width;
            var dst = (r0 - row + r) * width + (c0 - column);
            Array.Copy(sum, src, mean, dst, inside.Width);
            Array.Copy(ok, src, valid, dst, inside.Width);
        }
    }

    /// <summary>
    /// A box-averaged copy at 1/factor resolution covering the first (Width / factor) * factor columns and rows; a
    /// reduced pixel is valid when at least half of its full-resolution pixels are, and holds their mean.
    /// </summary>
    public (float[] Mean, byte[] Valid, int Width, int Height) ReadDecimated(int factor, CancellationToken cancel)
    {
        var dw = _raster.Width / factor;
        var dh = _raster.Height / factor;
        if (dw < 1 || dh < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(factor), $"Decimating {_raster.Width} x {_raster.Height} by {factor} leaves nothing.");
        }
        if (factor >= 2 && _mask is null && _raster.OverviewCount > 0 && _raster.GeoTransform is { IsNorthUp: true } gt)
        {
            return ReadThroughOverviews(factor, dw, dh, gt, cancel);
        }
        var mean = new float[dw * dh];
        var valid = new byte[dw * dh];
        var tile = Math.Max(1, DecimationTileSide / factor);
        var sums = new double[tile * tile];
        var counts = new int[tile * tile];
        // One full-resolution tile at a time, buffers reused: the working set stays at a few tiles whatever the scene size.
        var values = new float[tile * factor * tile * factor];
        var ok = new byte[values.Length];
        foreach (var t in RasterWindow.Tile(dw, dh, tile, tile))
        {
            cancel.ThrowIfCancellationRequested();
            var window = new RasterWindow(t.Column * factor, t.Row * factor, t.Width * factor, t.Height * factor);
            ReadInside(window, values, ok);
            Array.Clear(sums);
            Array.Clear(counts);
            for (var r = 0; r < window.Height; r++)
            {
                var tr = r / factor;
                for (var c = 0; c < window.Width; c++)
                {
                    var i = r * window.Width + c;
                    if (ok[i] != 0)
                    {
                        var k = tr * t.Width + c / factor;
                        sums[k] += values[i];
                        counts[k]++;
                    }
                }
            }
            var half = (factor * factor + 1) / 2;
            for (var r = 0; r < t.Height; r++)
            {
                for (var c = 0; c < t.Width; c++)
                {
                    var k = r * t.Width + c;
                    var o = (t.Row + r) * dw + t.Column + c;
                    if (counts[k] >= half)
                    {
                        mean[o] = (float)(sums[k] / counts[k]);
                        valid[o] = 1;
                    }
                }
            }
        }
        return (mean, valid, dw, dh);
    }

    /// <summary>
    /// The reduced copy from the raster's overviews: GDAL's warper averages the overview level nearest the wanted
    /// resolution (a lazy VRT, read once), so a large scene is never read at full resolution for the global estimate.
    /// </summary>
    private (float[] Mean, byte[] Valid, int Width, int Height) ReadThroughOverviews(int factor, int dw, int dh, GeoTransform gt, CancellationToken cancel)
    {
        var extent = new MapExtent(gt.OriginX, gt.OriginY + dh * factor * gt.PixelHeight, gt.OriginX + dw * factor * gt.PixelWidth, gt.OriginY);
        using var reduced = Warper.Warp(_raster, "", new WarpTarget { Extent = extent, Size = (dw, dh), Resampling = Resampling.Average }, "VRT", cancel: cancel);
        var window = new RasterWindow(0, 0, dw, dh);
        var n = dw * dh;
        var mean = new float[n];
        var valid = new byte[n];
        Array.Fill(valid, (byte)1);
        var band = new float[n];
        for (var b = 0; b < _bands.Length; b++)
        {
            cancel.ThrowIfCancellationRequested();
            reduced.ReadMasked(_bands[b], window, band, valid);
            Add(band, mean);
        }
        FinishMean(mean.AsSpan(0, n), valid, _bands.Length);
        return (mean, valid, dw, dh);
    }

    /// <summary>Adds one band to the running sum (invalid pixels are zeroed when the mean is taken).</summary>
    private static void Add(ReadOnlySpan<float> band, Span<float> sum)
    {
        for (var i = 0; i < band.Length; i++)
        {
            sum[i] += band[i];
        }
    }

    /// <summary>Turns band sums into means, zero where a pixel is invalid.</summary>
    private static void FinishMean(Span<float> sum, ReadOnlySpan<byte> valid, int bands)
    {
        var scale = 1f / bands;
        for (var i = 0; i < sum.Length; i++)
        {
            sum[i] = valid[i] != 0 ? sum[i] * scale : 0;
        }
    }

    private void ReadInside(RasterWindow window, float[] mean, byte[] valid)
    {
        var n = (int)window.PixelCount;
        Array.Fill(valid, (byte)1, 0, n);
        Array.Clear(mean, 0, n);
        if (_band.Length < n)
        {
            _band = new float[n];
        }
        var band = _band.AsSpan(0, n);
        for (var b = 0; b < _bands.Length; b++)
        {
            _raster.ReadMasked(_bands[b], window, band, valid);
            Add(band, mean);
        }
        FinishMean(mean.AsSpan(0, n), valid, _bands.Length);
        _mask?.ExcludeMasked(1, window, valid.AsSpan(0, n));
    }
}

/// <summary>The texture image the scenes are matched on.</summary>
internal static class Texture
{
    /// <summary>
    /// Sobel gradient magnitude: unaffected by brightness offsets (haze), scaled but not displaced by gain changes, and
    /// blind to the sign of an edge, so edges that reverse contrast between seasons still match. A pixel is valid only
    /// when its whole 3 x 3 neighbourhood is, so nodata and mask borders do not create edges.
    /// </summary>
    public static void GradientMagnitude(ReadOnlySpan<float> image, ReadOnlySpan<byte> valid, int width, int height, Span<float> gradient, Span<byte> gradientValid)
    {
        gradient[..(width * height)].Clear();
        gradientValid[..(width * height)].Clear();
        for (var r = 1; r < height - 1; r++)
        {
            for (var c = 1; c < width - 1; c++)
            {
                var i = r * width + c;
                int up = i - width, down = i + width;
                if ((valid[up - 1] & valid[up] & valid[up + 1] & valid[i - 1] & valid[i + 1] & valid[down - 1] & valid[down] & valid[down + 1]) == 0
                    || valid[i] == 0)
                {
                    continue;
                }
                var gx = (image[up + 1] + 2 * image[i + 1] + image[down + 1]) - (image[up - 1] + 2 * image[i - 1] + image[down - 1]);
                var gy = (image[down - 1] + 2 * image[down] + image[down + 1]) - (image[up - 1] + 2 * image[up] + image[up + 1]);
                gradient[i] = MathF.Sqrt(gx * gx + gy * gy);
                gradientValid[i] = 1;
            }
        }
    }
}
