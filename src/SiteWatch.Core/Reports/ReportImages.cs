using System.Globalization;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Gdal;
using SkiaSharp;

namespace SiteWatch.Core.Reports;

/// <summary>A picture of the report: PNG bytes with its size and a text alternative.</summary>
public sealed record ReportImage(byte[] Png, int Width, int Height, string AltText);

/// <summary>An outline drawn over imagery (map coordinates of the site's CRS), with an optional label beside it.</summary>
public sealed record MapOverlay(Geometry Map, SKColor Colour, string? Label = null, bool Dashed = false, float Width = 2.5f, float LabelSize = 13);

/// <summary>One panel: a stored raster cut to a map window, its caption, the imagery's attribution and what to draw over it.</summary>
public sealed record MapPanel(string RasterPath, Scene Scene, string Caption, IReadOnlyList<MapOverlay> Overlays);

/// <summary>
/// The report's map pictures: the site overview and the before/after chips. Each panel is north-up imagery cut from
/// the stored scenes (true colour, 2-98 % stretch as the alert chips), with the outlines, a scale bar, a north arrow
/// (true north, from the site's CRS), a caption with the date and the imagery's attribution under it.
/// </summary>
public static class ReportImages
{
    private const int Header = 26, Footer = 20;

    public static readonly SKColor Subject = new(255, 56, 40);
    public static readonly SKColor Aoi = new(255, 214, 10);

    /// <summary>The map window around a place: the place plus half its size on each side (at least <paramref name="minPadMetres"/>).</summary>
    public static Envelope WindowAround(Envelope place, double minPadMetres)
    {
        var pad = Math.Max(minPadMetres, 0.5 * Math.Max(place.Width, place.Height));
        var window = new Envelope(place);
        window.ExpandBy(pad);
        return window;
    }

    /// <summary>Renders each panel of the same map window at the same size (longest side <paramref name="size"/> pixels).</summary>
    public static IReadOnlyList<ReportImage> Panels(IReadOnlyList<MapPanel> panels, Envelope windowMap, int crsEpsg, int size, ReportFonts fonts)
    {
        var images = new List<ReportImage>();
        foreach (var panel in panels)
        {
            images.Add(Panel(panel, windowMap, crsEpsg, size, fonts));
        }
        return images;
    }

    private static ReportImage Panel(MapPanel panel, Envelope windowMap, int crsEpsg, int size, ReportFonts fonts)
    {
        using var raster = RasterDataset.Open(panel.RasterPath);
        var gt = raster.GeoTransform ?? throw new SiteWatchException($"{panel.RasterPath}: has no georeference; a report map needs map coordinates");
        var (c0, r0) = gt.MapToPixel(windowMap.MinX, windowMap.MaxY);
        var (c1, r1) = gt.MapToPixel(windowMap.MaxX, windowMap.MinY);
        var col0 = Math.Clamp((int)Math.Floor(Math.Min(c0, c1)), 0, raster.Width - 1);
        var row0 = Math.Clamp((int)Math.Floor(Math.Min(r0, r1)), 0, raster.Height - 1);
        var col1 = Math.Clamp((int)Math.Ceiling(Math.Max(c0, c1)), col0 + 1, raster.Width);
        var row1 = Math.Clamp((int)Math.Ceiling(Math.Max(r0, r1)), row0 + 1, raster.Height);
        var window = new RasterWindow(col0, row0, col1 - col0, row1 - row0);
        var scale = size / (double)Math.Max(window.Width, window.Height);
        var w = Math.Max(1, (int)Math.Round(window.Width * scale));
        var h = Math.Max(1, (int)Math.Round(window.Height * scale));
        var bands = SpectralBands.Identify(panel.Scene.Bands.Select(b => (string?)b.Name).ToArray(), panel.Scene.Bands.Select(b => b.WavelengthMicrometres).ToArray());
        var (rb, gb, bb) = bands.TrueColour;

        using var bitmap = new SKBitmap(w, h + Header + Footer, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(new SKColor(24, 26, 30));
        using (var imagery = AlertChip.Render(raster, window, [rb + 1, gb + 1, bb + 1], w, h))
        {
            canvas.DrawBitmap(imagery, 0, Header, new SKSamplingOptions(SKFilterMode.Linear));
        }
        SKPoint ToPixel(double x, double y)
        {
            var (col, row) = gt.MapToPixel(x, y);
            return new SKPoint((float)((col - col0) * scale), (float)(Header + (row - row0) * scale));
        }
        canvas.Save();
        canvas.ClipRect(new SKRect(0, Header, w, Header + h));
        foreach (var overlay in panel.Overlays)
        {
            DrawOverlay(canvas, overlay, ToPixel, fonts);
        }
        canvas.Restore();

        using var white = new SKPaint { Color = SKColors.White, IsAntialias = true };
        using var grey = new SKPaint { Color = new SKColor(200, 200, 200), IsAntialias = true };
        fonts.Draw(canvas, Fit(panel.Caption, fonts, fonts.Bold, 14, w - 12), 6, 18, fonts.Bold, 14, white);
        var metresPerPixel = Math.Abs(gt.PixelWidth) / scale;
        DrawScaleBar(canvas, metresPerPixel, 10, Header + h - 12, w, fonts);
        DrawNorthArrow(canvas, NorthAngle(gt, col0 + window.Width / 2.0, row0 + window.Height / 2.0, crsEpsg), w - 24, Header + 30, fonts);
        fonts.Draw(canvas, Fit(Attribution(panel.Scene), fonts, fonts.Regular, 10, w - 12), 6, Header + h + 14, fonts.Regular, 10, grey);

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return new ReportImage(data.ToArray(), bitmap.Width, bitmap.Height, $"{panel.Caption}; {Attribution(panel.Scene)}");
    }

    /// <summary>Who delivered the imagery, when, and which stored scene this is.</summary>
    public static string Attribution(Scene scene) => string.Create(CultureInfo.InvariantCulture,
        $"Imagery: {scene.Sensor}, {scene.AcquiredUtc:yyyy-MM-dd HH:mm} UTC, scene {scene.Id} ({Path.GetFileName(scene.SourcePath)})");

    /// <summary>The text cut with an ellipsis to fit a width.</summary>
    private static string Fit(string text, ReportFonts fonts, SKTypeface face, float size, float width)
    {
        if (fonts.Measure(text, face, size) <= width)
        {
            return text;
        }
        var n = text.Length;
        while (n > 1 && fonts.Measure(text[..n] + "…", face, size) > width)
        {
            n--;
        }
        return text[..n] + "…";
    }

    private static void DrawOverlay(SKCanvas canvas, MapOverlay overlay, Func<double, double, SKPoint> toPixel, ReportFonts fonts)
    {
        using var builder = new SKPathBuilder { FillType = SKPathFillType.EvenOdd };
        // Exterior rings only: a change object's holes are undetected pixels inside it, and outlining each would hide the imagery.
        foreach (var polygon in Polygons(overlay.Map))
        {
            foreach (var ring in new[] { polygon.ExteriorRing })
            {
                for (var i = 0; i < ring.Coordinates.Length; i++)
                {
                    var p = toPixel(ring.Coordinates[i].X, ring.Coordinates[i].Y);
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
        using var path = builder.Detach();
        // A dark halo under the line keeps it visible on bright roofs and dark shadows alike.
        using var halo = new SKPaint { Color = new SKColor(0, 0, 0, 150), Style = SKPaintStyle.Stroke, StrokeWidth = overlay.Width + 2, IsAntialias = true };
        using var stroke = new SKPaint { Color = overlay.Colour, Style = SKPaintStyle.Stroke, StrokeWidth = overlay.Width, IsAntialias = true };
        if (overlay.Dashed)
        {
            stroke.PathEffect = SKPathEffect.CreateDash([6, 4], 0);
        }
        canvas.DrawPath(path, halo);
        canvas.DrawPath(path, stroke);
        if (overlay.Label is { } label && !overlay.Map.IsEmpty)
        {
            var env = overlay.Map.EnvelopeInternal;
            var corner = toPixel(env.MinX, env.MaxY);
            var size = overlay.LabelSize;
            var width = fonts.Measure(label, fonts.Bold, size);
            var x = corner.X;
            var y = corner.Y - 4;
            using var box = new SKPaint { Color = new SKColor(0, 0, 0, 190) };
            canvas.DrawRect(new SKRect(x - 2, y - size, x + width + 3, y + 3), box);
            using var text = new SKPaint { Color = overlay.Colour, IsAntialias = true };
            fonts.Draw(canvas, label, x, y, fonts.Bold, size, text);
        }
    }

    /// <summary>A bar of a round length (1, 2 or 5 x 10^n m) about a quarter of the panel wide, black and white halves.</summary>
    private static void DrawScaleBar(SKCanvas canvas, double metresPerPixel, float x, float y, int panelWidth, ReportFonts fonts)
    {
        var target = 0.25 * panelWidth * metresPerPixel;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(target)));
        var metres = new[] { 5.0, 2, 1 }.Select(f => f * magnitude).First(m => m <= target);
        var length = (float)(metres / metresPerPixel);
        var label = metres >= 1000 ? string.Create(CultureInfo.InvariantCulture, $"{metres / 1000:0.#} km") : string.Create(CultureInfo.InvariantCulture, $"{metres:0.#} m");
        using var back = new SKPaint { Color = new SKColor(255, 255, 255, 200) };
        canvas.DrawRect(new SKRect(x - 4, y - 18, x + length + 8 + fonts.Measure(label, fonts.Bold, 11) + 4, y + 8), back);
        using var black = new SKPaint { Color = SKColors.Black };
        using var whiteFill = new SKPaint { Color = SKColors.White };
        using var edge = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawRect(new SKRect(x, y - 2, x + length / 2, y + 4), black);
        canvas.DrawRect(new SKRect(x + length / 2, y - 2, x + length, y + 4), whiteFill);
        canvas.DrawRect(new SKRect(x, y - 2, x + length, y + 4), edge);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        fonts.Draw(canvas, "0", x - 3, y - 6, fonts.Regular, 10, text);
        fonts.Draw(canvas, label, x + length + 6, y + 4, fonts.Bold, 11, text);
    }

    /// <summary>True north at a pixel, in radians clockwise from the image's up (grid north on north-up rasters).</summary>
    private static double NorthAngle(GeoTransform gt, double column, double row, int crsEpsg)
    {
        var (x, y) = gt.PixelToMap(column, row);
        using var map = SpatialReference.FromEpsg(crsEpsg);
        using var wgs84 = SpatialReference.Wgs84();
        using var toWgs84 = new CoordinateTransform(map, wgs84);
        using var toMap = new CoordinateTransform(wgs84, map);
        var (lon, lat) = toWgs84.Transform(x, y);
        var (xn, yn) = toMap.Transform(lon, Math.Min(89.9, lat + 0.001));
        var (cn, rn) = gt.MapToPixel(xn, yn);
        return Math.Atan2(cn - column, row - rn);
    }

    private static void DrawNorthArrow(SKCanvas canvas, double angle, float cx, float cy, ReportFonts fonts)
    {
        using var back = new SKPaint { Color = new SKColor(255, 255, 255, 200), IsAntialias = true };
        canvas.DrawCircle(cx, cy, 19, back);
        canvas.Save();
        canvas.RotateRadians((float)angle, cx, cy);
        using var dark = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var light = new SKPaint { Color = new SKColor(120, 120, 120), IsAntialias = true };
        using (var left = new SKPathBuilder())
        {
            left.MoveTo(cx, cy - 15);
            left.LineTo(cx - 7, cy + 9);
            left.LineTo(cx, cy + 4);
            left.Close();
            using var p = left.Detach();
            canvas.DrawPath(p, dark);
        }
        using (var right = new SKPathBuilder())
        {
            right.MoveTo(cx, cy - 15);
            right.LineTo(cx + 7, cy + 9);
            right.LineTo(cx, cy + 4);
            right.Close();
            using var p = right.Detach();
            canvas.DrawPath(p, light);
        }
        canvas.Restore();
        var nx = cx + (float)(Math.Sin(angle) * 27);
        var ny = cy - (float)(Math.Cos(angle) * 27);
        var width = fonts.Measure("N", fonts.Bold, 12);
        using var box = new SKPaint { Color = new SKColor(255, 255, 255, 200), IsAntialias = true };
        canvas.DrawCircle(nx, ny, 8, box);
        fonts.Draw(canvas, "N", nx - width / 2, ny + 4.5f, fonts.Bold, 12, dark);
    }

    private static IEnumerable<Polygon> Polygons(Geometry g) => g switch
    {
        Polygon p => [p],
        GeometryCollection c => c.Geometries.SelectMany(Polygons),
        _ => [],
    };
}
