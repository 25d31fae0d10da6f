using NetTopologySuite.Geometries;
using SiteWatch.Core.Change;
using SiteWatch.Gdal;
using SkiaSharp;

namespace SiteWatch.Core.Alerts;

/// <summary>The evidence picture of an alert: the place before | after, cut from the two stored scenes, with the alert's outline.</summary>
public static class AlertChip
{
    private const string FontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    private const int Panel = 256, Margin = 8, Header = 22;

    /// <summary>Writes the chip of <paramref name="geometryMap"/> (in the scenes' map CRS) from two scenes on one grid.</summary>
    public static void Write(string path, string beforeScene, string afterScene, string beforeLabel, string afterLabel, Geometry geometryMap, SpectralBands bands)
    {
        using var before = RasterDataset.Open(beforeScene);
        using var after = RasterDataset.Open(afterScene);
        var gt = before.GeoTransform ?? throw new SiteWatchException($"{beforeScene}: has no georeference; an alert chip needs map coordinates");
        var env = geometryMap.EnvelopeInternal;
        var (c0, r0) = gt.MapToPixel(env.MinX, env.MaxY);
        var (c1, r1) = gt.MapToPixel(env.MaxX, env.MinY);
        // Context around the object: half its size on each side, at least 24 pixels.
        var pad = Math.Max(24, 0.5 * Math.Max(Math.Abs(c1 - c0), Math.Abs(r1 - r0)));
        var col0 = Math.Clamp((int)Math.Floor(Math.Min(c0, c1) - pad), 0, before.Width - 1);
        var row0 = Math.Clamp((int)Math.Floor(Math.Min(r0, r1) - pad), 0, before.Height - 1);
        var col1 = Math.Clamp((int)Math.Ceiling(Math.Max(c0, c1) + pad), col0 + 1, before.Width);
        var row1 = Math.Clamp((int)Math.Ceiling(Math.Max(r0, r1) + pad), row0 + 1, before.Height);
        var window = new RasterWindow(col0, row0, col1 - col0, row1 - row0);
        var scale = Panel / (double)Math.Max(window.Width, window.Height);
        var w = Math.Max(1, (int)Math.Round(window.Width * scale));
        var h = Math.Max(1, (int)Math.Round(window.Height * scale));

        using var bitmap = new SKBitmap(2 * w + 3 * Margin, h + Header + Margin, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(new SKColor(24, 26, 30));
        using var typeface = File.Exists(FontPath) ? SKTypeface.FromFile(FontPath) : SKTypeface.Default;
        using var font = new SKFont(typeface, 12);
        using var text = new SKPaint { Color = SKColors.White, IsAntialias = true };
        using var outline = new SKPaint { Color = new SKColor(255, 64, 48), Style = SKPaintStyle.Stroke, StrokeWidth = 2, IsAntialias = true };
        var (r, g, b) = bands.TrueColour;
        foreach (var (raster, label, x0) in new[] { (before, beforeLabel, Margin), (after, afterLabel, 2 * Margin + w) })
        {
            using var panel = Render(raster, window, [r + 1, g + 1, b + 1], w, h);
            canvas.DrawBitmap(panel, x0, Header, new SKSamplingOptions(SKFilterMode.Linear));
            using var builder = new SKPathBuilder { FillType = SKPathFillType.EvenOdd };
            foreach (var polygon in Polygons(geometryMap))
            {
                foreach (var ring in new[] { polygon.ExteriorRing }.Concat(polygon.InteriorRings))
                {
                    for (var i = 0; i < ring.Coordinates.Length; i++)
                    {
                        var (col, row) = gt.MapToPixel(ring.Coordinates[i].X, ring.Coordinates[i].Y);
                        var p = new SKPoint((float)(x0 + (col - col0) * scale), (float)(Header + (row - row0) * scale));
                        if (i == 0)
                        {
                            builder.MoveTo(p);
                        }
                        else
                        {
                            builder.LineTo(p);
                        }
                    }
                    builder.Close();
                }
            }
            using var shape = builder.Detach();
            canvas.DrawPath(shape, outline);
            canvas.DrawText(label, x0, 15, SKTextAlign.Left, font, text);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using var stream = File.Create(path);
        data.SaveTo(stream);
    }

    internal static SKBitmap Render(RasterDataset raster, RasterWindow window, int[] bandNumbers, int w, int h)
    {
        var bitmap = new SKBitmap(w, h, SKColorType.Rgba8888, SKAlphaType.Premul);
        var planes = new float[3][];
        var nodata = raster.NoData;
        for (var c = 0; c < 3; c++)
        {
            planes[c] = new float[w * h];
            raster.ReadDecimated<float>(Math.Min(bandNumbers[c], raster.BandCount), window, w, h, planes[c]);
        }
        var pixels = new byte[w * h * 4];
        for (var c = 0; c < 3; c++)
        {
            // A 2-98 % stretch per band and date: dates differ in gain, one shared stretch would blacken one of them.
            var sample = planes[c].Where(v => float.IsFinite(v) && (nodata is null || v != (float)nodata)).Order().ToArray();
            var (lo, hi) = sample.Length == 0 ? (0f, 1f) : (sample[(int)(0.02 * (sample.Length - 1))], sample[(int)(0.98 * (sample.Length - 1))]);
            for (var i = 0; i < w * h; i++)
            {
                pixels[i * 4 + c] = (byte)(255 * Math.Clamp((planes[c][i] - lo) / Math.Max(hi - lo, 1e-6f), 0, 1));
                pixels[i * 4 + 3] = 255;
            }
        }
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        return bitmap;
    }

    private static IEnumerable<Polygon> Polygons(Geometry g) => g switch
    {
        Polygon p => [p],
        GeometryCollection c => c.Geometries.SelectMany(Polygons),
        _ => [],
    };
}
