using NetTopologySuite.Geometries;
using SiteWatch.Gdal;
using SkiaSharp;

namespace SiteWatch.Core.Change;

/// <summary>The picture an analyst looks at first: before | after | after with the change objects drawn on it.</summary>
public static class Quicklook
{
    private const string FontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    private const string BoldFontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

    public static void Write(string path, RasterPair pair, SpectralBands bands, IReadOnlyList<ChangeObject> objects, string beforeLabel, string afterLabel, string title, int panelWidth = 640)
    {
        var scale = Math.Min(1.0, panelWidth / (double)pair.Width);
        var w = Math.Max(1, (int)Math.Round(pair.Width * scale));
        var h = Math.Max(1, (int)Math.Round(pair.Height * scale));
        var (r, g, b) = bands.TrueColour;
        var before = ReadRgb(pair.Before, [pair.BeforeBand(r), pair.BeforeBand(g), pair.BeforeBand(b)], pair.BeforeNoData, w, h, pair.Width, pair.Height);
        var after = ReadRgb(pair.After, [pair.AfterBand(r), pair.AfterBand(g), pair.AfterBand(b)], pair.AfterNoData, w, h, pair.Width, pair.Height);
        // Each date gets its own 2-98 % stretch: dates often differ in gain (sensor, sun, haze) and one shared stretch
        // would leave one of them black or washed out.
        var beforeStretch = Enumerable.Range(0, 3).Select(c => Percentiles(before[c], before[3])).ToArray();
        var afterStretch = Enumerable.Range(0, 3).Select(c => Percentiles(after[c], after[3])).ToArray();

        const int margin = 12, header = 34, footer = 26;
        using var bitmap = new SKBitmap(3 * w + 4 * margin, h + header + footer + margin, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(new SKColor(24, 26, 30));
        using var regular = File.Exists(FontPath) ? SKTypeface.FromFile(FontPath) : SKTypeface.Default;
        using var bold = File.Exists(BoldFontPath) ? SKTypeface.FromFile(BoldFontPath) : regular;
        using var font = new SKFont(regular, 13);
        using var titleFont = new SKFont(bold, 14);
        using var textPaint = new SKPaint { Color = SKColors.White, IsAntialias = true };

        DrawPanel(canvas, before, beforeStretch, w, h, margin, header, dim: false);
        DrawPanel(canvas, after, afterStretch, w, h, 2 * margin + w, header, dim: false);
        DrawPanel(canvas, after, afterStretch, w, h, 3 * margin + 2 * w, header, dim: true);
        var gt = pair.Before.GeoTransform!.Value;
        foreach (var o in objects)
        {
            DrawObject(canvas, o, gt, scale, 3 * margin + 2 * w, header);
        }
        canvas.DrawText(title, margin, 20, SKTextAlign.Left, titleFont, textPaint);
        canvas.DrawText($"before {beforeLabel}", margin, header + h + 18, SKTextAlign.Left, font, textPaint);
        canvas.DrawText($"after {afterLabel}", 2 * margin + w, header + h + 18, SKTextAlign.Left, font, textPaint);
        var legendX = 3 * margin + 2 * w;
        foreach (var (label, color) in ChangeKind.All.Select(k => (k, KindColour(k))))
        {
            using var swatch = new SKPaint { Color = color, IsAntialias = true };
            canvas.DrawRect(legendX, header + h + 8, 12, 12, swatch);
            canvas.DrawText(label, legendX + 16, header + h + 18, SKTextAlign.Left, font, textPaint);
            legendX += 24 + (int)font.MeasureText(label);
        }
        canvas.DrawText($"{objects.Count} change objects", legendX + 8, header + h + 18, SKTextAlign.Left, font, textPaint);

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        var temp = path + ".partial";
        using (var stream = File.Create(temp))
        {
            data.SaveTo(stream);
        }
        File.Move(temp, path, overwrite: true);
    }

    private static SKColor KindColour(string kind) => kind switch
    {
        ChangeKind.Appeared => new SKColor(255, 64, 48),
        ChangeKind.Removed => new SKColor(40, 200, 255),
        ChangeKind.Vegetation => new SKColor(140, 255, 120),
        _ => new SKColor(255, 210, 40),
    };

    private static void DrawObject(SKCanvas canvas, ChangeObject o, GeoTransform gt, double scale, int x0, int y0)
    {
        using var builder = new SKPathBuilder { FillType = SKPathFillType.EvenOdd };
        foreach (var polygon in Polygons(o.Footprint))
        {
            foreach (var ring in new[] { polygon.ExteriorRing }.Concat(polygon.InteriorRings))
            {
                var first = true;
                foreach (var c in ring.Coordinates)
                {
                    var (col, row) = gt.MapToPixel(c.X, c.Y);
                    var p = new SKPoint((float)(x0 + col * scale), (float)(y0 + row * scale));
                    if (first)
                    {
                        builder.MoveTo(p);
                        first = false;
                    }
                    else
                    {
                        builder.LineTo(p);
                    }
                }
                builder.Close();
            }
        }
        using var path = builder.Detach();
        var colour = KindColour(o.Kind);
        using var fill = new SKPaint { Color = colour.WithAlpha(o.Shadow ? (byte)60 : (byte)120), IsAntialias = true, Style = SKPaintStyle.Fill };
        using var stroke = new SKPaint { Color = colour, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 1.2f };
        canvas.DrawPath(path, fill);
        canvas.DrawPath(path, stroke);
    }

    private static IEnumerable<Polygon> Polygons(Geometry g) => g switch
    {
        Polygon p => [p],
        MultiPolygon mp => mp.Geometries.Cast<Polygon>(),
        _ => [],
    };

    private static void DrawPanel(SKCanvas canvas, float[][] rgb, (float Low, float High)[] stretch, int w, int h, int x0, int y0, bool dim)
    {
        using var panel = new SKBitmap(w, h, SKColorType.Rgba8888, SKAlphaType.Premul);
        var pixels = new byte[w * h * 4];
        for (var i = 0; i < w * h; i++)
        {
            var valid = rgb[3][i] > 0;
            for (var c = 0; c < 3; c++)
            {
                var (lo, hi) = stretch[c];
                var v = valid ? Math.Clamp((rgb[c][i] - lo) / Math.Max(hi - lo, 1e-6f), 0, 1) : 0;
                pixels[i * 4 + c] = (byte)(255 * (dim ? 0.25 + 0.45 * v : v));
            }
            if (dim)
            {
                // Grey, so coloured change outlines stand out.
                var grey = (byte)((pixels[i * 4] + pixels[i * 4 + 1] + pixels[i * 4 + 2]) / 3);
                pixels[i * 4] = pixels[i * 4 + 1] = pixels[i * 4 + 2] = grey;
            }
            pixels[i * 4 + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, panel.GetPixels(), pixels.Length);
        canvas.DrawBitmap(panel, x0, y0, new SKSamplingOptions(SKFilterMode.Linear));
    }

    /// <summary>Three decimated bands plus a validity plane (1 = data) at the panel size.</summary>
    private static float[][] ReadRgb(RasterDataset raster, int[] bandNumbers, double? nodata, int w, int h, int width, int height)
    {
        var planes = new float[4][];
        planes[3] = new float[w * h];
        Array.Fill(planes[3], 1f);
        var all = new RasterWindow(0, 0, width, height);
        for (var c = 0; c < 3; c++)
        {
            planes[c] = new float[w * h];
            raster.ReadDecimated<float>(bandNumbers[c], all, w, h, planes[c]);
            for (var i = 0; i < planes[c].Length; i++)
            {
                if (float.IsNaN(planes[c][i]) || (nodata is { } nd && planes[c][i] == (float)nd))
                {
                    planes[3][i] = 0;
                }
            }
        }
        return planes;
    }

    private static (float Low, float High) Percentiles(float[] values, float[] valid)
    {
        var sample = values.Where((v, i) => valid[i] > 0 && float.IsFinite(v)).ToArray();
        if (sample.Length == 0)
        {
            return (0, 1);
        }
        Array.Sort(sample);
        return (sample[(int)(0.02 * (sample.Length - 1))], sample[(int)(0.98 * (sample.Length - 1))]);
    }
}
